"""Reading folders of articles and dropping page debris by general rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.articles import keep_article_lines, parse_article, scan_folder
from qa.errors import CorpusError

from .conftest import SEEDS


def shared_data(name: str) -> Path:
    """A file of the team's shared data folder (`shared/data/NAME` beside the checkout or above it); the tests
    that read it are skipped where it is absent."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "shared" / "data" / name).exists():
            return folder / "shared" / "data" / name
    return Path("/nonexistent") / name


ARCHIVE = shared_data("news_archive/articles.jsonl.gz")
SQUAD = shared_data("squad11_dev/corpus.jsonl")


def kept(text: str) -> list[str]:
    return [text[s:e] for s, e in keep_article_lines(text)]


def test_page_chrome_before_the_headline_is_dropped() -> None:
    text = "Skip navigation\n\nLatest Stories\n\nEnvoy arrives in Doha for talks\n\nThe envoy arrived on Monday."
    assert kept(text) == ["Envoy arrives in Doha for talks", "The envoy arrived on Monday."]


def test_image_rows_captions_and_placeholders_are_dropped() -> None:
    text = "\n".join([
        "Envoy arrives in Doha for talks",
        "![](https://x/y.jpg) |",
        "The envoy in Doha. Photo: Reuters |",
        "  – 4x3 Image",
        "Photo gallery",
        "The envoy arrived on Monday.",
        "Leaders shake hands after signing [Jane Doe/Reuters]",
    ])
    assert kept(text) == ["Envoy arrives in Doha for talks", "The envoy arrived on Monday."]


def test_paragraphs_ending_in_bracketed_markup_or_a_long_bracketed_credit_stay() -> None:
    long_paragraph = ("The council voted on Tuesday to extend the program for another year, and the mayor said the "
                      "city would pay for it from reserves while the state reviewed its share of the costs, which "
                      "officials said could take months to settle [Reuters/AP]")
    text = "\n".join([
        "Envoy arrives in Doha for talks",
        "The forum post said the talks were over [/bold]",
        "Votes were split [/]",
        long_paragraph,
        "The envoy arrived on Monday.",
    ])
    assert kept(text) == text.split("\n")


def test_captions_closing_on_a_photo_credit_and_flattened_galleries_are_dropped() -> None:
    text = "\n".join([
        "Migrants reach Panama",
        "Venezuelan migrants arrive at Canaan Membrillo village on October 13, 2022. Luis Acosta/AFP/Getty Images",
        "The migrants walked for days through the jungle, officials said.",
        "RIP McRib. David Paul Morris/Getty Images",
        "Adrian Dennis/Pool/Getty Images",
        "A girl waits. Marco Bello/Reuters A boy runs. Jae C. Hong/AP In pictures: The border Prev Next",
        "Waldwick/Midland Park",
        "9. North/South divide on beer prices",
        "The story misstated the starting time of the episode, which begins at 9 p.m. ET/PT.",
        "Contributing: Reuters",
    ])
    assert kept(text) == ["Migrants reach Panama", "The migrants walked for days through the jungle, officials said.",
                          "Waldwick/Midland Park", "9. North/South divide on beer prices",
                          "The story misstated the starting time of the episode, which begins at 9 p.m. ET/PT.",
                          "Contributing: Reuters"]


def test_a_clock_time_in_a_sentence_is_no_link_label() -> None:
    text = "Shutdown begins\n\nThe vote failed after hours of debate.\n\nThe Senate adjourned at 8:24 p.m. - Zach Schermele\n"
    assert kept(text)[-1] == "The Senate adjourned at 8:24 p.m. - Zach Schermele"


def test_inbox_sign_up_and_click_here_prompts_are_dropped_but_sentences_mentioning_them_stay() -> None:
    text = "\n".join([
        "Envoy arrives in Doha for talks",
        "The envoy arrived on Monday.",
        "A version of this story appears in CNN’s What Matters newsletter. To get it in your inbox, sign up for free here.",
        "Want all the latest Ukraine updates in your inbox? Sign up for the latest news here.",
        "These articles are for USA TODAY subscribers. You can sign up here.",
        "Unable to view our graphics? Click here to see them.",
        "Click here for the full story.",
        "More coverage from USA TODAY",
        "Volunteers can sign up at the library until Friday, the organisers said.",
        "In other towns the eclipse lasts two hours (click here for a map), officials said.",
    ])
    assert kept(text) == ["Envoy arrives in Doha for talks", "The envoy arrived on Monday.",
                          "Volunteers can sign up at the library until Friday, the organisers said.",
                          "In other towns the eclipse lasts two hours (click here for a map), officials said."]


def test_comment_newsletter_and_adblock_prompts_are_dropped() -> None:
    text = "\n".join([
        "Envoy arrives in Doha for talks",
        "The envoy arrived on Monday.",
        "Subscribe to our daily newsletter!",
        "Leave a comment",
        "Your e-mail address will not be published. Required fields are marked *",
        "We noticed you use an ad-blocker. Please whitelist us to support our journalism.",
        "Scroll to top",
    ])
    assert kept(text) == ["Envoy arrives in Doha for talks", "The envoy arrived on Monday."]


def test_video_rows_and_puzzle_and_newsletter_invitations_are_dropped() -> None:
    body = [
        "Moskva sinks after missile strike",
        "The cruiser sank on Thursday.",
        "The newsletter, which she founded in 2019, now has 40,000 readers.",
        "He solved the crossword puzzle in the Sunday paper every week.",
    ]
    promotions = [
        "Video Ad Feedback See reaction on Russian state TV after major ship sunk 02:21 - Source: CNN",
        "Biden warns of 'path to chaos' ahead of midterms 02:19 - Source: CNN",
        "Need a break? Play the USA TODAY Daily Crossword Puzzle.",
        "Need a news break? Check out the all new PLAY hub with puzzles, games and more!",
        "What's everyone talking about? Sign up for our trending newsletter to get the latest news of the day",
        "OLYMPICS NEWSLETTER:The best Olympic stories straight to your inbox",
        '(You can get "5 Things You Need to Know Today" delivered to your inbox daily. Sign up here.)',
        "JUST WATCHED Flood threat persists across the South Replay More Videos ... MUST WATCH Flood threat persists "
        "across the South 02:19",
        "Subscribe to The Week Escape your echo chamber. Get the facts behind the news, plus analysis from multiple "
        "perspectives. SUBSCRIBE & SAVE Sign up for The Week's Free Newsletters From our morning news briefing to a "
        "weekly Good News Newsletter, get the best of The Week delivered directly to your inbox. From our morning "
        "news briefing to a weekly Good News Newsletter, get the best of The Week delivered directly to your inbox.",
        "Sign up for Today's Best Articles in your inbox A free daily email with the biggest news stories of the day "
        "– and the best features from TheWeek.com Contact me with news and offers from other Future brands Receive "
        "email from us on behalf of our trusted partners or sponsors",
        "Join our Watch Party! Sign up to receive USA TODAY's movie and TV recommendations right in your inbox",
        "Sign-up for Your Vote: Text with the USA TODAY elections team.",
    ]
    kept_too = [  # an article's own lines that start the same ways
        "Sign up online at www.DonateLifeAZ.org, call 1-800-94-DONOR, or check the box to become a donor when "
        "applying for a driver's license or state ID at the Motor Vehicle Division.",
        "Subscribers will get the first issue in May.",
    ]
    text = "\n\n".join(body[:2] + promotions + body[2:] + kept_too)
    assert kept(text) == body + kept_too


def test_contact_lines_and_page_notices_are_dropped_but_bylines_credits_and_the_storys_last_lines_stay() -> None:
    body = [
        "Envoy wins the Masters",
        "The final round ended on Sunday.",
        "Contact tracing at schools began in May, officials said.",
        "Anyone with information should contact Detective Ron Clayton at 317-327-3475 or e-mail him at "
        "ronald.clayton@indy.gov.",
        "Email: info@tech-for-life.com",
        "Bryson DeChambeau: +4",
        "Bubba Watson: +9",  # the leaderboard's last lines, short, before the contact lines: still the story's
    ]
    contacts = [
        "Contact Jessica Bies at (302) 324-2881 or jbies@delawareonline.com. Follow her on Twitter @jessicajbies.",
        "Follow Ashley May on Twitter: @AshleyMayTweets",
        "Reach reporter Ben Mace at rmace@gannett.com.",
    ]
    notices = [
        "We occasionally recommend interesting products and services. If you make a purchase by clicking one of the "
        "links, we may earn an affiliate fee.",
        "Thank you for supporting our journalism. You can subscribe to our print edition, ad-free app or electronic "
        "newspaper replica here.",
        "We will use the details you have shared to manage your newsletter subscription. You agree to the "
        "processing, storage, sharing and use of this information for the purpose of managing your subscription.",
        "If you wish to object to the use of your data in this way, please tick here.",
    ]
    credits = ["Dave DeCamp is the news editor of Antiwar.com, follow him on Twitter @decampdave.",
               "Contributing: Zach Wichter, USA TODAY; The Associated Press",
               "Stephany Matat is a politics reporter. Reach her at smatat@pbpost.com. Support local journalism: "
               "Subscribe to The Palm Beach Post."]
    text = "\n\n".join(body + contacts + notices + credits)
    assert kept(text) == body + credits
    assert kept("\n\n".join(body + contacts + notices)) == body


def test_links_to_other_stories_are_dropped_but_local_roundups_and_the_headline_are_kept() -> None:
    body = [
        "Fact check:Vaccines protect against contracting, spreading COVID-19",  # the headline: never dropped
        "The agency said on Monday that the vaccines work.",
        "Des Moines:Gov. Kim Reynolds said she disputed the panel's recent warning about Iowa.",
        "Note: the figures are preliminary.",
        "The meeting starts at 10:30 and ends at noon.",
    ]
    links = [
        "More:General Motors to close Detroit, Ohio, Canada plants",
        "See map of cases:E. coli outbreak linked to organic carrots leaves 1 dead, 15 hospitalized",
        "►Related:How to ship and store baby formula",
        "More:Gov. Kim Reynolds has controlled $2.7 billion in federal COVID-19 aid. Here's how she's spending it.",
        "PUERTO RICAN INDEPENDENCE:After Hurricane Fiona, will Puerto Rico ever become a state?",
        "MORE: North Korea launches two more ballistic missiles into Pacific 'firing range'",
        "STORY: Former state labor secretary enters congressional race",
        "ALSO READ: 50 Strangest Town Names in America (and Where They Came From)",
        "►Related: Ilitch family to give $40M for new WSU business school",
        "More: A Virginia man thought he won $600 in a lottery scratch-off. He actually won $1 million.",
        "Watch: Monty the giant schnauzer wins Best in Show",
        "Holiday deals: Shop this season’s top products and sales curated by our editors.",
    ]
    own = [  # labelled lines that are the article's own: a list, a schedule, a long paragraph
        "Also: Run for the Pie 10K (Saturday, in Thurmont, Md.); Kinzua Half Marathon (Saturday-Sunday, in Mt. Jewett).",
        "WATCH: Mediacom rebroadcasts stories from the most recent show on MC22 periodically; check local listings.",
        "More: 7%",  # a poll's answer, not a link
        "Contributing:Emily DeLetter and Alicia DelGallo, USA TODAY and Associated Press",  # a credit, glued
        "7:30: Shania Twain",  # a concert's schedule
        "6:30 p.m. ET TV : Fox",
        "More: Before the Washington lawsuit and delay, court records in a California lawsuit revealed that federal "
        "regulators were not convinced of the merits of the deal, and the companies asked for more time to answer "
        "the questions the court had put to them.",
    ]
    text = "\n\n".join(body[:2] + links + body[2:] + own)
    assert kept(text) == body + own
    # a link at the very end takes no short line of the story's with it
    assert kept("\n\n".join(body + ["Contributing: Maeve McDermott", links[5]])) == body + [
        "Contributing: Maeve McDermott"]


def test_links_glued_to_a_shouted_or_asking_label_and_live_blog_links_are_dropped() -> None:
    body = [
        "Winter storm sweeps the East",
        "The storm killed at least 28 people, officials said on Saturday.",
        "PICKERING:I saw Frank a couple of times at the field and different functions. He would invite the whole team "
        "to his house for parties. He was a good guy.",  # an interview's speaker: longer than a linked headline
        '"THE TIGERS ARE SAFE!" the post said.',
        "P!NK will bring her tour to Chase Field on Monday, Oct. 9.",
        "CORRECTION:An earlier version of this story misidentified who appointed her to the board.",
        "Live updates on Election Day snags can be found here.",
        "Continue to check back. Live updates are below, with the latest at the top.",
    ]
    links = [
        "GLOBAL WARMING:Tempted to joke about global warming amid the freezing cold? Here's what experts say about "
        "that.",
        "WHAT IS A NOR'EASTER?Storms can batter East Coast with snow, impact millions of people",
        "Spoilers!What those 'Guardians of the Galaxy 3' end-credit scenes mean for Marvel future",
        "'Fast X' spoilers!How that cliffhanger sets up the final film",
        "Traveling this summer?5 ways to save money and nab last-minute flight deals",
        "Live updates: Texans mourn the dead as search for flood victims continues",
        "Live updates on Russia-Ukraine: Russian coup leader Prigozhin says he did not want to depose Putin",
        "Jimmy Kimmel suspended after Charlie Kirk comments: Live updates and reactions",
        "Savannah Guthrie breaks her silence about her mother's case – Live updates",
        "➤ Live updates for Lee County: Get the latest for the Fort Myers area.",
    ]
    assert kept("\n\n".join(body[:2] + links + body[2:])) == body


def test_promotions_of_the_outlets_own_pages_and_funding_notices_are_dropped() -> None:
    body = [
        "Bronny James held to four points in debut",
        "All things considered, the debut went well, the coach said.",
        "Car owners can check USA TODAY's recall database or search NHTSA's database for new recalls.",
        "The museum's renovation was made possible by a grant from the state, officials said.",
        "His work exemplifies the importance of journalism and is made possible through his commitment to reporting.",
    ]
    promotions = [
        "All things Lakers: Latest Los Angeles Lakers news, schedule, roster, stats, injury updates and more.",
        "Prep for the polls: See who is running for president and compare where they stand on key issues in our "
        "Voter Guide",
        "RECALL DATABASE: Check USA TODAY's recall resource for the latest updates",
        "What else is under recall? Check out USA TODAY's searchable recall database",
        "Health and patient safety coverage at USA TODAY is made possible in part by a grant from the Masimo "
        "Foundation for Ethics, Innovation and Competition in Healthcare. The Masimo Foundation does not provide "
        "editorial input.",
        "Our fact-check work is supported in part by a grant from Facebook.",
        "The series is made possible in part by a grant from Stand Together, which does not provide editorial input.",
    ]
    assert kept("\n\n".join(body[:1] + promotions[:3] + body[1:] + promotions[3:])) == body


def test_a_label_glued_to_its_sentence_goes_and_the_sentence_stays() -> None:
    text = ("Coach hired\n\nAI-assisted summary Iisalo, who was hired in May, will coach the team.\n\n"
            "AI-assisted summary\n\nThe team finished last season with a losing record.")
    spans = keep_article_lines(text, titled=True)
    assert [text[s:e] for s, e in spans] == ["Iisalo, who was hired in May, will coach the team.",
                                             "The team finished last season with a losing record."]


def test_the_whole_consent_block_of_a_sign_up_form_is_dropped_even_at_the_top() -> None:
    consent = [
        "We will use the details you have shared to manage your registration. You agree to the processing, storage, "
        "sharing and use of this information for the purpose of managing your registration as described in our "
        "Privacy Policy.",
        "Would you like to receive The WeekDay newsletter ?",
        "The WeekDay newsletter provides you with a daily digest of news and analysis.",
        "We will use the information you have shared for carefully considered and specific purposes, where we believe "
        "we have a legitimate case to do so, for example to send you communications about similar products and "
        "services we offer. You can find out more about our legitimate interest activity in our Privacy Policy.",
        "If you wish to object to the use of your data in this way, please tick here.",
        "'We' includes The Week and other Future Publishing Limited brands as detailed here.",
    ]
    body = ["The ambassador was dismissed on Friday after criticising the president in an interview.",
            "The Week Escape your echo chamber. Get the facts behind the news, plus analysis from multiple "
            "perspectives. SUBSCRIBE & SAVE Sign up for The Week's Free Newsletters From our morning news briefing "
            "to a weekly Good News Newsletter, get the best of The Week delivered directly to your inbox.",
            "He had served in London since 2020."]
    text = "\n\n".join(consent + body)
    assert [text[s:e] for s, e in keep_article_lines(text, titled=True)] == [body[0], body[2]]


def test_writers_contact_lines_that_only_give_an_address_are_dropped() -> None:
    body = [
        "Floods close the river road",
        "The road along the river closed on Tuesday.",
        "The National Domestic Violence Hotline can be reached at (800) 799-7233 or by texting LOVEIS to 22522.",
        "Dave Acosta may be reached at 546-6138.",  # no e-mail or handle: a phone number may be for readers
        "Natalie Alund is a senior reporter for USA TODAY. Reach her at nalund@usatoday.com.",  # a bio
    ]
    contacts = [
        "Adrian Hedden can be reached at 575-628-5516, achedden@currentargus.com or @AdrianHedden on Twitter.",
        "Reporter Emma Dill can be reached at 910-343-2096 or edill@gannett.com.",
        "Send story tips or ideas to Hannah Edelman at hedelman@delawareonline.com.",
        "Got a tip? Contact Amanda Fries at afries@delawareonline.com. Follow her on X at @mandy_fries.",
        "Have an idea for a local sports story? Contact Kevin Tresolini at ktresolini@delawareonline.com.",
        "Email reporter Brian Passey at brian@thespectrum.com or call him at 435-674-6296.",
    ]
    assert kept("\n\n".join(body + contacts)) == body


def test_a_short_head_ending_in_a_colon_after_the_last_paragraph_is_dropped() -> None:
    body = ["Dow drops 112 as stocks swing", "Stocks swung on Tuesday as oil prices fell again.",
            "At $1.55 billion, the jackpot equals the largest in the lottery's history. Here's where the other "
            "record-holders stand:",  # a sentence of the story, however its list was lost
            "Contributing: The Associated Press"]
    assert kept("\n\n".join(body + ["USA TODAY's Investment Roundtable 2015:"])) == body
    assert kept("\n\n".join(body[:3] + ["More on the Met Gala:", "Dig deeper:"])) == body[:3]


def test_repeated_caption_line_is_dropped_once() -> None:
    text = "Headline about the envoy visit\nThe envoy visits Pakistan.\nThe envoy visits Pakistan.\nMore news follows."
    assert kept(text) == ["Headline about the envoy visit", "The envoy visits Pakistan.", "More news follows."]


def test_seed_titles_skip_chrome() -> None:
    titles = {a.path: a.title for a in scan_folder(SEEDS).articles}
    assert titles["003_9623a98c6a797b2a.txt"].startswith("Khalilzad, In Pakistan")
    assert titles["004_52d8e2bfa1f724e8.txt"].startswith("U.S. Envoy In Pakistan")
    assert titles["002_8157d92ee579a465.txt"] == "US envoy Zalmay Khalilzad and the Taliban’s rise"


def test_seed_debris_is_gone_and_body_kept() -> None:
    for article in scan_folder(SEEDS).articles:
        body = "\n".join(article.text[s:e] for s, e in article.lines)
        for debris in ("Accessibility links", "![]()", "16x9 Image", "Adblocker", "Leave a Reply", "Back to top"):
            assert debris not in body, (article.path, debris)
    article = {a.path: a for a in scan_folder(SEEDS).articles}["002_8157d92ee579a465.txt"]
    assert "By then, it was too late." in "\n".join(article.text[s:e] for s, e in article.lines)


def test_bad_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("A good headline for a story\n\nSome text of the story here.")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 story headline here".encode("latin-1"))
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.txt").write_text("Hidden headline of the story\n\nText.")
    scan = scan_folder(tmp_path)
    assert [a.path for a in scan.articles] == ["good.txt"]
    reasons = {s.path: s.reason for s in scan.skipped}
    assert reasons.keys() == {"empty.txt", "binary.txt", "latin1.txt"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["binary.txt"] and "UTF-8" in reasons["latin1.txt"]


def test_nested_markdown_and_html_articles(tmp_path: Path) -> None:
    (tmp_path / "world").mkdir()
    (tmp_path / "world" / "story.md").write_text("# Envoy lands in Doha today\n\nThe envoy landed. Talks begin.\n")
    (tmp_path / "page.html").write_text(
        "<html><head><title>Site | Envoy</title><script>var x='[bold]';</script></head><body><nav>Home News</nav>"
        "<h1>Envoy lands in Doha</h1><p>The envoy &amp; his team landed.</p><footer>© Site</footer></body></html>")
    articles = {a.doc_id: a for a in scan_folder(tmp_path).articles}
    assert articles["world/story"].title == "Envoy lands in Doha today"
    html = articles["page"]
    assert html.title == "Envoy lands in Doha"
    body = [html.text[s:e] for s, e in html.lines]
    assert "The envoy & his team landed." in body
    assert "var x" not in html.text and "Home News" not in body


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        scan_folder(tmp_path / "nope")


def test_file_with_only_debris_is_skipped(tmp_path: Path) -> None:
    assert parse_article("x.txt", b"![]() |\nAccessibility links\n") is None


# --- The headline is never lost ---------------------------------------------------------------------------


def titled(title: str, body: str) -> str | None:
    """The title parse_article finds in the SQuAD layout: title line, blank line, text."""
    article = parse_article("a.txt", f"{title}\n\n{body}\n".encode())
    return article.title if article else None


@pytest.mark.parametrize("title", ["Super Bowl 50", "Warsaw", "Oxygen", "Nikola Tesla", "50 States",
                                   "#MeToo one year on", "Photos: Wildfires in Europe"])
def test_short_headline_above_a_paragraph_is_the_title(title: str) -> None:
    body = "Super Bowl 50 was an American football game to determine the champion of the league for the season."
    assert titled(title, body) == title


def test_short_headline_survives_a_byline_or_dateline_under_it() -> None:
    body = "The bees vanished from the orchard overnight, growers said on Monday."
    assert titled("A bumblebee vanishes", f"Free Press Staff Writer\n\n{body}") == "A bumblebee vanishes"
    assert titled("Oscar trivia", f"Feb. 3, 2016, 12:00 a.m. ET\n\n{body}") == "Oscar trivia"
    assert titled("50 States", f"From USA TODAY Network and wire reports\n\n{body}") == "50 States"


def test_hard_wrapped_first_paragraph_is_not_a_headline() -> None:
    body = "Oxygen is present in the atmosphere in trace quantities in the form of carbon dioxide (CO\n2). The rest."
    assert titled("Oxygen", body) == "Oxygen"


def test_headlines_that_look_like_prompts_are_kept() -> None:
    body = "The petition gathered thirty thousand names in a day, its organisers said."
    for title in ("Thousands sign up to boycott the airline over its deal",
                  "The Oreo twist: MIT study reveals how to perfectly open cookie",
                  "Twitter down: thousands of users struggle to login",
                  "Delaware Eats, the weekly newsletter, is a must-read"):
        assert titled(title, body) == title


def test_chrome_before_a_question_headline_is_dropped() -> None:
    text = "Accessibility links\n\nBreaking News\n\nWill the talks succeed?\n\nThe envoy arrived on Monday."
    assert kept(text) == ["Will the talks succeed?", "The envoy arrived on Monday."]


def test_known_title_drops_labels_before_the_first_paragraph() -> None:
    text = "Brian Truitt\n\nUSA TODAY\n\nIn the hands of the right creative types, a king can be more."
    assert [text[s:e] for s, e in keep_article_lines(text, titled=True)] == [text.rsplit("\n", 1)[1]]


def test_known_title_drops_the_byline_block_however_long_the_byline() -> None:
    paragraph = "SYDNEY - The Australian government will legislate for a ban on social media for children under 16."
    for byline in ("Alasdair Pal and Byron Kaye", "Kim Hjelmgaard, USA TODAY", "Special to the Detroit Free Press",
                   "Marco della Cava, and Jon Swartz"):
        text = f"{byline}\n\nReuters\n\n{paragraph}"
        assert [text[s:e] for s, e in keep_article_lines(text, titled=True)] == [paragraph], byline
    # a heading in capitals or title case is no byline: it is the first line of the story
    text = f"Knoxville News Sentinel\n\nHIKE SEVEN ISLANDS STATE BIRDING PARK\n\n{paragraph}"
    first = keep_article_lines(text, titled=True)[0]
    assert text[first[0] : first[1]] == "HIKE SEVEN ISLANDS STATE BIRDING PARK"


def test_time_stamps_are_dropped_and_close_the_byline_block() -> None:
    paragraph = "I have been a homeowner in Farmington Hills for over 45 years, and I attend every council meeting."
    for stamp in ("Updated Sept. 21, 2020, 5:52 p.m. ET", "June 26, 2023, 2:11 p.m. ET",
                  "Jan. 12, 2022 Updated Jan. 13, 2022, 5:53 p.m. ET"):
        text = f"Adam Shell, and Kim Hjelmgaard, USA TODAY\n\n{stamp}\n\nHills council lauded\n\n{paragraph}"
        # the byline block above the stamp goes; the letter's own headline below it stays
        assert [text[s:e] for s, e in keep_article_lines(text, titled=True)] == ["Hills council lauded", paragraph]
    timeline = ["Outbreak timeline", "March 5, 2020", "A man tests positive for COVID-19 in Camarillo.",
                "Thursday, March 12, 3:53 p.m.", "The county declares a local emergency."]
    assert kept("\n\n".join(timeline)) == timeline  # a date alone, or without a year, is the story's


@pytest.mark.skipif(not SQUAD.is_file(), reason="the shared SQuAD data is not here")
def test_every_squad_title_survives_the_file_layout() -> None:
    import json

    rows = [json.loads(line) for line in SQUAD.read_text(encoding="utf-8").splitlines()]
    lost = [row["title"] for row in rows if titled(row["title"], row["text"]) != row["title"]]
    assert not lost, lost[:5]


@pytest.mark.skipif(not ARCHIVE.is_file(), reason="the shared news archive is not here")
def test_news_archive_titles_survive_the_file_layout() -> None:
    import gzip
    import itertools
    import json

    with gzip.open(ARCHIVE, "rt", encoding="utf-8") as stream:
        rows = [json.loads(line) for line in itertools.islice(stream, 1000)]
    lost = [row["title"] for row in rows if titled(row["title"], row["text"]) != row["title"].strip()]
    assert not lost, lost[:5]


# --- Front matter -----------------------------------------------------------------------------------------


def test_front_matter_gives_metadata_and_is_not_article_text() -> None:
    text = ("---\ndate: May 31, 2024\noutlet: USA Today\nurl: https://www.usatoday.com/story/x\nlayout: post\n---\n"
            "Envoy lands in Doha for talks\n\nThe envoy arrived on Monday.\n")
    article = parse_article("story.md", text.encode())
    assert (article.date, article.outlet, article.url) == ("2024-05-31", "USA Today", "https://www.usatoday.com/story/x")
    assert article.title == "Envoy lands in Doha for talks"
    assert article.text == text  # offsets still point into the file's text
    assert [article.text[s:e] for s, e in article.lines] == ["Envoy lands in Doha for talks",
                                                           "The envoy arrived on Monday."]


@pytest.mark.parametrize(("written", "read"), [
    ("Old Bond meets new in 'Spectre'", "Old Bond meets new in 'Spectre'"),  # a plain value keeps its quotes
    ("'Unauditable' fund faces audit", "'Unauditable' fund faces audit"),
    ('"Beyonc\\u00e9 wins \\"Album\\" award"', 'Beyoncé wins "Album" award'),  # double-quoted: escapes read
    ("'It''s over, says coach'", "It's over, says coach"),  # single-quoted: '' is one quote
    ('"unclosed', '"unclosed'),
])
def test_front_matter_titles_are_read_as_written(written: str, read: str) -> None:
    article = parse_article("story.md", f"---\ntitle: {written}\n---\nThe body of the story.\n".encode())
    assert article.title == read


def test_text_without_front_matter_has_no_metadata() -> None:
    article = parse_article("story.txt", b"Envoy lands in Doha for talks\n---\nThe envoy arrived on Monday.\n")
    assert (article.date, article.outlet, article.url) == ("", "", "")
    assert article.title == "Envoy lands in Doha for talks"


def test_a_saved_page_is_read_in_the_charset_it_declares(tmp_path: Path) -> None:
    page = ('<html><head><meta charset="windows-1252"><title>Pâtisserie in Zürich</title></head><body><article>'
            "<h1>Pâtisserie in Zürich wins award</h1><p>The pâtisserie in Zürich won the award for its crème "
            "brûlée, the jury said on Monday after a long tasting.</p><p>It beat forty other shops from across "
            "the country in the final round of the contest.</p></article></body></html>")
    (tmp_path / "latin.html").write_bytes(page.encode("cp1252"))
    (tmp_path / "latin.txt").write_bytes("Crème brûlée wins again in Zürich this year.".encode("cp1252"))
    scan = scan_folder(tmp_path)
    [article] = scan.articles
    assert article.title == "Pâtisserie in Zürich wins award" and "crème brûlée" in article.text
    assert [s.path for s in scan.skipped] == ["latin.txt"]  # plain text has no charset to declare: still refused


def test_front_matter_without_a_usable_date_or_outlet_takes_them_from_the_url() -> None:
    article = parse_article("m.md", b"---\ndate: 2024-13-45\nurl: https://www.usatoday.com/story/news/2024/04/03/x/\n"
                                    b"---\nFloods close the river road\n\nThe road along the river closed on Tuesday.\n")
    assert (article.date, article.outlet) == ("2024-04-03", "usatoday.com")  # an impossible date is dropped
    own = parse_article("n.md", b"---\ndate: 2024-04-05\noutlet: USA Today\nurl: https://www.usatoday.com/2024/04/03/x/"
                                b"\n---\nFloods close the river road\n\nThe road along the river closed on Tuesday.\n")
    assert (own.date, own.outlet) == ("2024-04-05", "USA Today")  # its own fields come first
