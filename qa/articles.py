"""Read a folder of articles and find which lines are the article and which are page debris."""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import CorpusError
from .folders import iter_files, list_files, read_limited
from .frontmatter import read_front_matter
from .htmltext import decode_html, extract_page
from .metadata import date_in_url, host_of, normalize_date, title_without_outlet
from .records import byline

log = logging.getLogger(__name__)

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
EXPORT_SUFFIXES = (".jsonl", ".jsonl.gz")  # one JSON object per article and line
MAX_WARNINGS = 10  # skipped files and lines logged one by one; the rest are counted
MAX_ARTICLE_BYTES = 20_000_000  # larger files are data dumps, not articles
MAX_TITLE_CHARS = 200  # a title line longer than this is the article itself, shortened to be its title
HEADLINE_WORDS = 25  # longer lines are paragraphs, even without a full stop (SQuAD's "... correctly.:266")
DANGLING_HEAD_WORDS = 8  # a line closing an article on a colon ("More on the Met Gala:") heads what the text lacks


@dataclass(frozen=True, slots=True)
class Article:
    """An article's text and the character spans of its lines that are article, not page debris.

    For .txt and .md files `text` is the file's text exactly; for .html it is the text extracted from the
    markup. Citations point into `text`.
    """

    doc_id: str  # relative path without suffix, e.g. "000_3508494580fc35c5" (the path itself where two would clash)
    path: str  # relative to the corpus folder, with "/" separators
    title: str
    text: str
    lines: tuple[tuple[int, int], ...]  # kept lines as (start, end) spans of `text`, in order
    content_hash: str  # sha256 of the file's bytes
    date: str = ""  # ISO "YYYY-MM-DD" (or "YYYY-MM-DDTHH:MM..." when the time is known); "" when unknown
    outlet: str = ""  # who published it: a name ("USA Today") or a host name ("usatoday.com")
    url: str = ""  # where it was published (canonical URL when the page names one)
    author: str = ""
    date_kind: str = ""  # records.FETCHED when `date` is only the day it was fetched (an export's `retrieved`)

    @property
    def byline(self) -> str:
        """Outlet and date for people to read, as a citation of it shows them ("The Week · fetched 2023-01-28")."""
        return byline(self.outlet, self.date, self.date_kind)


@dataclass(frozen=True, slots=True)
class SkippedFile:
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class FolderScan:
    articles: list[Article]
    skipped: list[SkippedFile]


def scan_folder(folder: Path | str) -> FolderScan:
    """Read every article under `folder` (recursively, hidden folders excluded), in path order; `folder` may
    also be one file (an article, or a .jsonl/.jsonl.gz export of many).

    Empty, binary and non-UTF-8 files, and bad lines of an export, are skipped with a reason, so one bad file
    never stops the rest.
    """
    from .exports import is_export, read_export

    root = Path(folder)
    refused: list[tuple[str, str]] = []  # file names that are not UTF-8, folders that cannot be read
    if not root.exists():
        raise CorpusError(f"corpus {root} does not exist")
    if root.is_file():
        if not (is_export(root.name) or root.suffix.lower() in ARTICLE_SUFFIXES):
            raise CorpusError(f"corpus {root} is neither a folder nor an article file "
                              f"({', '.join(ARTICLE_SUFFIXES + EXPORT_SUFFIXES)})")
        files, root = [root], root.parent
    elif root.is_dir():
        files = sorted(_article_files(root, refused))
    else:
        raise CorpusError(f"corpus {root} is not a folder")
    articles: list[Article] = []
    skipped = [SkippedFile(path, reason) for path, reason in refused]
    for file in files:
        relative = file.relative_to(root).as_posix()
        if is_export(file.name):
            found, bad = read_export(file, relative)
            articles.extend(found)
            skipped.extend(bad)
            continue
        try:
            data = read_limited(file, MAX_ARTICLE_BYTES)  # an oversized file is never read whole
        except OSError as error:
            skipped.append(SkippedFile(relative, f"cannot be read ({error.strerror or error})"))
            continue
        problem = _why_unreadable(data, html=file.suffix.lower() in (".html", ".htm"))
        if problem:
            skipped.append(SkippedFile(relative, problem))
            continue
        article = parse_article(relative, data)
        if article is None:
            skipped.append(SkippedFile(relative, "holds no article text"))
            continue
        articles.append(article)
    return FolderScan(_unique_doc_ids(articles), skipped)


def _unique_doc_ids(articles: list[Article]) -> list[Article]:
    """Articles whose doc_ids clash ("story.txt" and "story.md" are both "story"; a file "export#7.txt" and line 7
    of "export.jsonl" are both "export#7") take their paths, which differ, as doc_ids: otherwise one of them
    would be cited with the other's title, file and offsets."""
    counts = Counter(article.doc_id for article in articles)
    if len(counts) == len(articles):
        return articles
    return [replace(article, doc_id=article.path) if counts[article.doc_id] > 1 else article for article in articles]


def log_skipped(skipped: Sequence[SkippedFile], told: Collection[SkippedFile] = ()) -> None:
    """Warn about each skipped file or line (the first few; the rest are counted), except those in `told`:
    already warned about on an earlier open, they are logged at INFO level (seen with --verbose)."""
    new = [skip for skip in skipped if skip not in told]
    # A whole file that cannot be read (a corrupt .gz) is told before the lines skipped in it.
    for number, skip in enumerate(sorted(new, key=lambda s: " line " in s.path)):
        if number == MAX_WARNINGS:
            log.warning("skipped %d more (run with --verbose to list them)", len(new) - number)
        log.log(logging.WARNING if number < MAX_WARNINGS else logging.INFO, "skipped %s: %s", skip.path, skip.reason)
    for skip in skipped:
        if skip in told:
            log.info("skipped %s (as before): %s", skip.path, skip.reason)


def _article_files(root: Path, refused: list[tuple[str, str]] | None = None) -> list[Path]:
    return list_files(root, ARTICLE_SUFFIXES + EXPORT_SUFFIXES, refused)


def could_hold_articles(path: Path) -> str | None:
    """Why `path` cannot be a corpus (no such folder, a folder without a single article file, a file that is
    neither an article nor an export), or None; a quick look that stops at the first article file."""
    suffixes = ARTICLE_SUFFIXES + EXPORT_SUFFIXES
    if path.is_file():
        return None if path.name.lower().endswith(suffixes) else \
            f"{path} is neither a folder nor an article file ({', '.join(suffixes)})"
    if not path.is_dir():
        return f"{path} does not exist" if not path.exists() else f"{path} is not a folder"
    if next(iter_files(path, suffixes), None) is None:
        return f"{path} holds no articles ({', '.join(suffixes)})"
    return None


def _why_unreadable(data: bytes, html: bool = False) -> str | None:
    if not data.strip():
        return "is empty"
    if len(data) > MAX_ARTICLE_BYTES:
        return f"is larger than {MAX_ARTICLE_BYTES // 1_000_000} MB"
    if b"\x00" in data[:8192]:
        return "is binary, not text"
    if html and decode_html(data) is not None:  # a page may be in the charset its <meta> names
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"is not UTF-8 (bad byte at offset {error.start}); convert it with e.g. iconv -t UTF-8"
    return None


def parse_article(path: str, data: bytes) -> Article | None:
    """Build an Article from a file's bytes (UTF-8; a page in the charset it declares), or None when nothing of
    it is article text.

    HTML goes through trafilatura (text and metadata); .txt and .md keep their text exactly, with metadata
    from an optional front-matter block (`date:`, `outlet:`, `url:`, `title:`), which is not article text.
    """
    content_hash = hashlib.sha256(data).hexdigest()
    doc_id = path.rsplit(".", 1)[0]
    if path.lower().endswith((".html", ".htm")):
        page = extract_page(decode_html(data) or data.decode("utf-8", errors="replace"))
        return make_article(doc_id, path, page.text, content_hash, title=page.title, date=page.date,
                            outlet=page.outlet, url=page.url, author=page.author)
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    front = read_front_matter(text)
    meta = front.fields
    url = meta.get("url", "")
    # As for an export: without a usable date or outlet of its own, the article's address gives them.
    return make_article(doc_id, path, text, content_hash, title=meta.get("title", ""),
                        date=normalize_date(meta.get("date", "")) or date_in_url(url),
                        outlet=meta.get("outlet", "") or host_of(url), url=url, author=meta.get("author", ""),
                        body_start=front.end)


def make_article(doc_id: str, path: str, text: str, content_hash: str, *, title: str = "", date: str = "",
                 outlet: str = "", url: str = "", author: str = "", body_start: int = 0,
                 date_kind: str = "") -> Article | None:
    """An Article from text and metadata, its debris found; None when no line of it is article text.

    Without a `title`, the first kept line is the title; with one (from metadata), short labels and bylines before
    the first paragraph (all above a time stamp that closes them) are page chrome, never the headline, and are
    dropped. A title's closing
    " - Outlet" or " | Outlet" is dropped: the citation names the outlet.
    """
    lines = keep_article_lines(text, body_start, titled=bool(title.strip()))
    if not lines:
        return None
    first_start, first_end = lines[0]
    title = " ".join(title.split()) or _clean_title(text[first_start:first_end])
    title = title_without_outlet(title, outlet, url)
    return Article(doc_id, path, title, text, tuple(lines), content_hash, date, outlet, url, author, date_kind)


def _clean_title(line: str) -> str:
    title = re.sub(r"^\s*#+\s+", "", line[: MAX_TITLE_CHARS * 2]).strip()  # "# Heading", not "#MeToo"
    if len(title) > MAX_TITLE_CHARS:  # a one-line article: its title is its start, not all of it
        title = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + "…"
    return title


# --- Boilerplate rules ------------------------------------------------------------------------------------
# General rules, not a list of known strings: page chrome is short, lacks sentence punctuation and sits
# before the headline or after the last paragraph; image debris is markup without words; prompts to
# comment, subscribe or disable an ad blocker have recognisable vocabulary.

_TERMINAL = re.compile(r"[.!?…:;\"'”’)\]]\s*$")
# Bracket runs stop at the next opening bracket too, so a line of "[[[[..." is scanned once, not once per "[".
_MARKUP_ONLY = re.compile(r"!?\[[^\[\]]*\]\([^()]*\)|[|*_#>`~=\-–—•·]+")
_IMAGE_PLACEHOLDER = re.compile(r"\b\d+\s*[x×:]\s*\d+\b|\b(image|photo|picture|video|gallery|graphic)s?\b", re.I)
_AD_BLOCK = re.compile(r"\bad[\s-]?block", re.I)
_PROMPT = re.compile(
    r"leave a (reply|comment)|e-?mail address will not be published|required fields are marked"
    r"|\bsubscribe\b|^(sign|log)[- ]?(up|in)\b|\bsign (up|in) (for|with) (our|the|free)\b"
    r"|back to top|skip to (main )?content"
    r"|^share (this|on)\b|follow us|^(\d+ )?comments?$|^related( articles| posts| stories)?$|^read more"
    r"|^advertisement$|\b(uses?|accept|allow)( all)? cookies\b|\bcookies? (policy|settings|consent)\b"
    r"|all rights reserved|^copyright\b|^©|^more coverage from\b",
    re.I,
)
# A byline or dateline under a headline ("From USA TODAY Network and wire reports", "Feb. 3, 2016, 12:00 a.m. ET").
_DATELINE = re.compile(
    r"^\W*((words|photos?|story|text) )?(by|from|updated|published|posted)\b"
    r"|\b(writer|reporter|correspondent)$|\b[ap]\.m\.|\b\d{1,2}:\d{2}\b"
    r"|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}\b",
    re.I,
)
# A time stamp alone on its line, wherever it stands: "Updated Sept. 21, 2020, 5:52 p.m. ET", "June 26, 2023,
# 2:11 p.m. ET", "Jan. 12, 2022 Updated Jan. 13, 2022, 5:53 p.m. ET" (2,385 lines of the archive, each within the
# first four lines, under the byline). A date alone ("March 5, 2020" heading a timeline's entry) or without its year
# ("Thursday, March 12, 3:53 p.m." heading a live blog's) is the story's and stays.
_DATE = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}, \d{4}"
_TIME = r",?\s*(at\s+)?\d{1,2}:\d{2}\s*[ap]\.?m\.?(\s+[A-Z]{2,4})?"
_STAMP = re.compile(rf"^\W*((updated|published|posted|last updated):?\s+{_DATE}({_TIME})?|{_DATE}({_TIME}"
                    rf"|\s+updated:?\s+{_DATE}{_TIME}))\s*$", re.I)
# A label glued to the sentence it introduces: "AI-assisted summary Iisalo, who was ..." (191 lines of the archive,
# each at the start of its line). The label goes, the sentence stays: its span starts after the label.
_SENTENCE_LABEL = re.compile(r"AI-assisted summary\b\s*", re.I)
# A byline's words: names (initials, particles, a place in brackets), "and", and the outlet the writer is with.
_BYLINE_WORD = re.compile(r"\(?[A-Z][\w'’.&/-]*\)?,?$|(and|&|by|de|del|della|van|von|der|da|di|du|le|la|al|bin|special"
                          r"|to|for|of|the),?$")
_BYLINE_JOINT = re.compile(r"\s(and|&)\s|,\s|^(by|special)\s", re.I)
BYLINE_WORDS = 12
HEADER_LINES = 4  # a time stamp closes the byline block when at most this many lines stand above it (archive: 3)
# Promotions inside the text: a video player's row ("Video Ad Feedback ... 02:21 - Source: CNN"), puzzle and
# newsletter invitations ("Need a break? Play the USA TODAY Daily Crossword Puzzle.", "Sign up for our trending
# newsletter ..."). Matched on lines of up to PROMOTION_WORDS words; an article's own sentences about a
# newsletter or a puzzle do not invite the reader to sign up or play. Also the outlet's invitations to its own
# pages: a team's hub ("All things Lakers: Latest Los Angeles Lakers news, schedule, roster, stats, injury updates and
# more.", 85 more lines dropped in the archive), the voter guide ("Prep for the polls: See who is running for president
# and compare where they stand on key issues in our Voter Guide", 441) and its databases and lists ("RECALL DATABASE:
# Check USA TODAY's recall resource for the latest updates", "... primary? Check out USA TODAY's list of ...", 24),
# each read; a sentence that goes on "Car owners can check USA TODAY's recall database ..." is the story's advice.
_PROMOTION = re.compile(
    r"\b\d{1,2}:\d{2} - source: "
    r"|\bplay (the|our|today's)\b[^.]{0,40}\b(crossword|puzzles?|sudoku|quick cross)\b|\bpuzzles, games\b"
    r"|\bsign[- ]?up\b[^.]{0,80}\b(newsletters?|your inbox(es)?)\b"
    r"|\bnewsletters?\b[^.]{0,80}\b(sign[- ]?up|subscribe|inbox)\b|\bdelivered to your inbox\b"
    r"|\bproducts and sales curated by our editors\b"
    r"|\binbox\b[^.]{0,80}\bsign[- ]?up\b|\bsign[- ]?up (for free )?here\W*$"  # "... in your inbox, sign up here."
    r"|\bin our voter guide\b",
    re.I,
)
_PROMOTION_OPENING = re.compile(  # matched at the line's start: searched, "^\W*..." is tried at every space
    r"video ad feedback\b|\W*click here\b|unable to view our graphics\b"
    r"|\W*all things [^:.]{1,40}:\s*(latest|find|get|read|follow|everything)\b"  # not "All things considered, ..."
    r"|\W*([^.?!:]{0,80}[:?]\s+)?check (out )?usa today['’]s\b",  # at the start, or after a label or a question
    re.I,
)
PROMOTION_WORDS = 40
# Longer page furniture, matched on lines of up to FURNITURE_WORDS words: a video carousel ("JUST WATCHED <title>
# Replay More Videos ... MUST WATCH <title> 01:07"), a subscription box that starts by inviting ("Subscribe to The
# Week Escape your echo chamber. ... SUBSCRIBE & SAVE", "[ Subscribe for the latest news ... ]"; one that starts
# otherwise by its button and form: "The Week Escape your echo chamber. ... SUBSCRIBE & SAVE Sign up for The Week's
# Free Newsletters ...", 23 lines, while a shop's "Subscribe & save at Nutrafol" is a deal's) and a newsletter
# sign-up form ("Sign up for Today's Best Articles in your inbox A free daily email ... Your Email Address").
# Public-service lines that start "Sign up" ("Sign up online at www.DonateLifeAZ.org, call ...") are kept.
_FURNITURE = re.compile(
    r"^just watched\b.*\breplay\b.*\bmust watch\b|^\W*subscribe\b"
    r"|^sign[- ]?up (for|to)\b.*\b(inbox|newsletter)\b.*\b(e-?mail|free)\b",
    re.I,
)
_SUBSCRIBE_BUTTON = re.compile(r"subscribe & save sign up", re.I)  # searched apart: a literal is found fast
FURNITURE_WORDS = 120
# Notices about the page rather than the story, matched on lines of up to NOTICE_WORDS words: affiliate disclosures
# ("If you make a purchase by clicking one of the links, we may earn an affiliate fee."), the consent text of a
# sign-up form ("You agree to the processing, storage, sharing and use of this information ...", "please tick
# here", and the rest of that form: "We will use the information you have shared for ... legitimate interest ...",
# "'We' includes The Week and other Future Publishing Limited brands ..."; 138 exports of The Week hold this form and
# nothing else, and kept, its words made them look like copies of one story: a notice is dropped on the first line
# too, since it is never a headline), appeals to subscribe ("Thank you for supporting our journalism. You can
# subscribe ...", "Support local journalism by subscribing ...") and who pays for the coverage ("Health and patient
# safety coverage at USA TODAY is made possible in part by a grant from the Masimo Foundation ... does not provide
# editorial input.", "Our fact-check work is supported in part by a grant from Facebook.": 218 lines of the archive,
# 7 distinct, each read; a story about a grant says who got it, not that its "coverage is made possible", and "his
# commitment to reporting ... is made possible through ..." names no funder). A line that also gives the writer's
# address is a bio and stays.
_NOTICE = re.compile(
    r"\bwe may earn (an? )?(affiliate )?(fee|commission)|\bmay earn (an? )?(affiliate )?commission\b"
    r"|\baffiliate links?\b[^.]{0,60}\b(commission|fee)|\byou agree to the processing\b|\bplease tick here\b"
    r"|\bthe (details|information) you have shared\b"
    r"|\bwould you like to receive\b[^.?]{0,60}\bnewsletter\b"
    r"|\bnewsletter provides you with\b|\bthank you for supporting our journalism\b"
    r"|\bsupport (our|local) journalism\b[^.]{0,80}\bsubscri"
    r"|\b(coverage|journalism|reporting|fact[- ]check(ing)? work)\b[^.]{0,80}"
    r"\b(is|are) (made possible|supported|funded)\b[^.]{0,100}\b(grants?|foundation|trust|funders?|partnership"
    r"|collaboration|donors?)\b"
    r"|\bdoes not provide editorial input\b",
    re.I,
)
_NOTICE_OPENING = re.compile(r"\W*['‘]we['’] includes\b", re.I)
NOTICE_WORDS = 60
# The writer's contact line under a story ("Contact Jessica Bies at (302) 324-2881 or jbies@delawareonline.com.
# Follow her on Twitter @jessicajbies.", "Follow Ashley May on Twitter: @AshleyMayTweets", and 363 more lines of the
# archive that open otherwise: "Adrian Hedden can be reached at 575-628-5516, achedden@...", "Send story tips or ideas
# to ...", "Got a tip? Contact ...", "Email reporter Brian Passey at ..."): it needs an e-mail address or an @handle, so
# "Contact tracing at schools ...", "The National Domestic Violence Hotline can be reached at (800) 799-7233 ..." and a
# phone number for readers stay. A writer's bio ("Dave DeCamp is the news editor of Antiwar.com, follow him on Twitter
# @decampdave.") and credits ("Contributing: ...") stay: they say who reported the story.
_CONTACT = re.compile(
    r"^\W*(contact|reach|follow)\b"
    r"|^\W*((reporter|columnist|writer) )?((?-i:[A-Z])[\w'’.-]*,? ){1,5}(can|may) (also )?be"
    r" (reached|contacted|e-?mailed)\b"
    r"|^\W*(got|have|do you have) (a|an|any)\b[^.]{0,120}?\?\s*(contact|reach|e-?mail|send|call|text)\b"
    r"|^\W*send (\w+ ){0,2}(tips|ideas|questions)\b|^\W*(e-?mail|call|text) (the )?(reporter|columnist|writer)\b",
    re.I,
)
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.\w|(^|[\s:(])@\w{2,}")
CONTACT_WORDS = 40
# A link to another story set in the text: a label glued to the linked headline by a colon with no space ("More:GM
# to close Detroit plant", "Fact check:Vaccines protect against ..."): 5,574 lines in the archive's first 8,000
# articles. Local roundups glue a place to a real paragraph the same way ("Des Moines:Gov. Kim Reynolds said
# ..."); those run longer and end in a full stop, and are kept, unless the label only ever links ("More:").
_TEASER = re.compile(r"^[^\s:][^:]{0,60}?:(?=[A-Z0-9\"'‘“])")
_LINK_LABEL = re.compile(r"^\W*(more|related|read more|read|see also|also|previously|previous story|you may like"
                         r"|recommended|watch)\s*:", re.I)
TEASER_WORDS = 30
# The same links with a space after the label ("MORE: North Korea launches two more missiles", "STORY: Former state
# labor secretary enters race", "ALSO READ: 50 Strangest Town Names"): 445 lines in the archive's first 8,000
# articles. "Also: ..." and "Watch: ..." followed by a full sentence are often the article's own (a list of races,
# a broadcast schedule), so those two count only without a closing full stop.
_SPACED_LINK = re.compile(r"^\W*(more|related|read more|see also|also read|story|previously|previous story"
                          r"|you may like|recommended|(?P<loose>also|watch))\s*:\s+(?=\S)", re.I)
# A label glued to the linked headline that is no roundup's place name: one in capitals ("GLOBAL WARMING:Tempted to
# joke about global warming amid the freezing cold? Here's what experts say about that.") or one that asks or exclaims
# ("WHAT IS A NOR'EASTER?Storms can batter ...", "Spoilers!What those 'Guardians of the Galaxy 3' end-credit scenes
# mean ...", "Traveling this summer?5 ways to save money ..."): a link even when the headline closes on a full stop
# (791 more lines of the archive, 118 of them in capitals; of 130 read, all links or a newsletter's greeting). Such a
# headline is short; an interview's speaker ("PICKERING:I saw Frank a couple of times ...", 29 words) or a list's
# entry ("PUBLIX:Publix began offering Pfizer booster shots ...", "What's similar to it?Nicola Pizza at ...") glued the
# same way runs longer and stays, as do a quote ("THE TIGERS ARE SAFE!" the post said), "P!NK" and the story's own
# notes ("CORRECTION:An earlier version ...", "UPDATE:When the dust settled, ...").
_ASKING_LABEL = re.compile(r"^\W*[^\s?!:][^?!:]{1,80}?[?!]+(?=[A-Z0-9])")
_SHOUTED = re.compile(r"^[^a-z]*[A-Z]{2}[^a-z]*$")
_NOTE_LABEL = re.compile(r"^\W*(update[ds]?|correction|clarification|editor'?s note)\b", re.I)  # the story's own note
LINK_LABEL_WORDS = 10
LINK_HEADLINE_WORDS = 20
# A link to a live blog, with its label before or after the headline ("Live updates: Texans mourn the dead as search
# continues", "Live updates on Russia-Ukraine: Russian coup leader Prigozhin says ...", "Jimmy Kimmel suspended after
# Charlie Kirk comments: Live updates and reactions", "... Nancy's case – Live updates"): 66 more lines of the archive,
# each read. A sentence that mentions live updates ("Live updates on Election Day snags can be found here.", "Live
# updates are below") has no such label.
_LIVE_UPDATES = re.compile(r"live updates?\b", re.I)
_LIVE_LABEL_FIRST = re.compile(r"[^:.]{0,60}:\s*\S")  # after "Live updates": "... on Russia-Ukraine: Russian ..."
_LIVE_LABEL_LAST = re.compile(r"( and \w+)?\s*$")  # after it: " and reactions"
_BEFORE_LIVE_LABEL = re.compile(r"\S\s*(:|\s[–—-])\s*$")  # before it: "... comments: ", "... case – "
# A caption's credit closing its line: "... February 2020 [Ibraheem al Omari/Reuters]". Words on both sides of the
# slash, so a paragraph that ends in markup ("[/bold]") or a bare "[/]" stays; captions are short, so a long
# paragraph ending in a bracketed "[Reuters/AP]" stays too.
_BRACKET_CREDIT = re.compile(r"\[[^\[\]\n/]*\w[^\[\]\n/]*/[^\[\]\n]*\w[^\[\]\n]*\]\s*$")
CAPTION_WORDS = 35
# A photo caption closing on its credit: "... on October 13, 2022. Luis Acosta/AFP/Getty Images", "RIP McRib. David
# Paul Morris/Getty Images" (4,077 lines of the archive, 3,697 after a sentence; the longest, 123 words, is still a
# caption). A credit alone on its line counts only when it names a photo agency: bare "Name/Name" lines are as often
# a listing's label ("Waldwick/Midland Park", "FOLK/CELTIC").
_NAME = r"[A-Z][\w'’.-]*"
_CREDITED_CAPTION = re.compile(r"(?:^|(?P<sentence>[.!?\"”’)])\s+)(?:" + _NAME + r"\s+){0,4}" + _NAME
                               + r"(?:\s*/\s*" + _NAME + r"(?:\s+[\w&'’.-]+){0,4})+\s*$")
_PHOTO_AGENCY = re.compile(r"\b(Getty|AP|AFP|Reuters|Pool|Imagn|Shutterstock|Adobe Stock|Associated Press|EPA|Xinhua"
                           r"|Bloomberg|CNN|USA TODAY|USA Today|Agency|Syndicate|Cartoons|Courtesy|Collection)\b")
CREDITED_CAPTION_WORDS = 130
# A photo gallery flattened into one line of captions and credits, ending in its buttons ("In pictures: Mass
# shooting at Texas elementary school Prev Next"): 170 lines of the archive.
_GALLERY = re.compile(r"\bPrev\s+Next\s*$")
# Glued labels that are no link: a credit ("Contributing:Emily DeLetter and Alicia DelGallo, USA TODAY") and a
# clock time opening a schedule or live-blog line ("7:30: Shania Twain", "6:30 p.m. ET TV : Fox").
_CREDIT_LINE = re.compile(r"^\W*(contributing|contributors?|additional reporting|reporting)\b", re.I)
_NOT_A_LINK = re.compile(_CREDIT_LINE.pattern + r"|^\d{1,2}:\d", re.I)


def _words(line: str) -> int:
    return len(line.split())


def _is_short_label(line: str) -> bool:
    """A menu item, section label or byline-like fragment: few words, no sentence punctuation."""
    return _words(line) < 4 and not _TERMINAL.search(line)


def _is_byline(line: str) -> bool:
    """Names joined by "and" or commas, or a writer's outlet, without a verb: "Alasdair Pal and Byron Kaye", "Kim
    Hjelmgaard, USA TODAY", "Special to the Detroit Free Press". A heading in capitals or title case ("HIKE SEVEN
    ISLANDS STATE BIRDING PARK", "I. Before Aaron Zahn") has no such joint."""
    words = line.split()
    return 2 <= len(words) <= BYLINE_WORDS and not _TERMINAL.search(line) and bool(_BYLINE_JOINT.search(line)) \
        and all(_BYLINE_WORD.match(word) for word in words) and sum(word[:1].isupper() for word in words) >= 2


def _is_trailing_label(line: str) -> bool:
    """A line after the story's last paragraph that is page chrome: a short label, or a short head ending in a colon
    whose list or widget is not in the text; never a credit."""
    stripped = line.strip()
    return (_is_short_label(stripped) or _words(stripped) <= DANGLING_HEAD_WORDS and stripped.endswith(":")) \
        and not _CREDIT_LINE.match(stripped)


def _is_headline(line: str) -> bool:
    """A line that reads as a headline rather than a paragraph or a byline: short, with no closing full stop
    or ending in a question or exclamation mark ("Will the talks succeed?")."""
    stripped = line.strip()
    if _words(stripped) > HEADLINE_WORDS or _DATELINE.search(stripped):
        return False
    return not _TERMINAL.search(stripped) or stripped.endswith(("?", "!"))


def _runs_on(text: str, end: int) -> bool:
    """Whether the line ending at `end` is hard-wrapped into the next ("... carbon dioxide (CO" / "2). The ..."):
    no blank line between them and the next starts with neither a capital nor a quote."""
    rest = text[end:]
    following = rest.lstrip()
    gap = rest[: len(rest) - len(following)]
    return bool(following) and gap.count("\n") < 2 and not (following[0].isupper() or following[0] in "\"'“‘")


def _is_teaser(line: str) -> bool:
    label = _TEASER.match(line) or _ASKING_LABEL.match(line)
    if label is None or _words(label.group()) > LINK_LABEL_WORDS or _NOT_A_LINK.match(line):
        return False
    if line[label.end() - 2].isdigit() and line[label.end()].isdigit():
        return False  # a clock time within a sentence: "The Senate adjourned at 8:24 p.m."
    head, rest = label.group(), line[label.end() :]
    if _LINK_LABEL.match(line):
        return _words(rest) <= PROMOTION_WORDS
    if (head.rstrip(":").endswith(("?", "!")) or _SHOUTED.match(head)) and _words(rest) <= LINK_HEADLINE_WORDS \
            and not _NOTE_LABEL.match(head):
        return True
    return _words(head) <= 8 and _words(rest) <= TEASER_WORDS and not rest.rstrip("\"'”’)").endswith(".")


def _is_live_link(line: str) -> bool:
    """"Live updates" as a link's label, before the linked headline or after it."""
    found = _LIVE_UPDATES.search(line)
    if found is None or _words(line) > TEASER_WORDS:
        return False
    before, after = line[: found.start()], line[found.end() :]
    if not any(character.isalnum() for character in before):
        return bool(_LIVE_LABEL_FIRST.match(after))
    return bool(_LIVE_LABEL_LAST.match(after) and _BEFORE_LIVE_LABEL.search(before))


def _is_credited_caption(line: str) -> bool:
    if _words(line) > CREDITED_CAPTION_WORDS or line.endswith("."):  # "... begins at 9 p.m. ET/PT." is a sentence
        return False
    credit = _CREDITED_CAPTION.search(line)
    if credit is None:
        return False
    # "9. North/South divide on beer prices" is a numbered list's heading, not a caption's last sentence
    after_a_sentence = credit.group("sentence") is not None and _words(line[: credit.start()]) >= 2
    return after_a_sentence or bool(_PHOTO_AGENCY.search(credit.group()))


def _is_debris(line: str, previous: str | None) -> bool:
    """Whether a line is page debris; `previous` is the line before (None for the first line, which may be the
    headline)."""
    stripped = line.strip()
    if not _MARKUP_ONLY.sub("", stripped).strip():
        return True  # image rows such as "![]() |", rules, bullets
    if stripped.startswith("|") or stripped.endswith("|"):
        return True  # table-cell image captions
    if _AD_BLOCK.search(stripped):
        return True
    if _words(stripped) <= 12 and _PROMPT.search(stripped.strip("•·–—-* ")):
        return True
    if _words(stripped) <= PROMOTION_WORDS and (_PROMOTION.search(stripped) or _PROMOTION_OPENING.match(stripped)):
        return True
    if _words(stripped) <= 4 and not _TERMINAL.search(stripped) and _IMAGE_PLACEHOLDER.search(stripped) \
            and not re.search(r"\w", _IMAGE_PLACEHOLDER.sub("", stripped)):
        return True  # "16x9 Image", "Photo gallery", but not "Photos: Wildfires in Europe"
    if _words(stripped) <= CAPTION_WORDS and _BRACKET_CREDIT.search(stripped):
        return True
    if _is_credited_caption(stripped) or _GALLERY.search(stripped):
        return True
    if previous is not None and (_is_teaser(stripped) or _is_live_link(stripped)):
        return True
    return previous is not None and stripped == previous  # a caption repeated as alt text


def _is_furniture(line: str) -> bool:
    """Whether a line is page furniture that is taken out only after the trailing labels are, so that a story's
    own short last lines above it stay (a leaderboard's "Bubba Watson: +9", a credit "Contributing: ..."): a
    spaced link, a video carousel, a subscription box or sign-up form, a notice about the page, the writer's
    contact line."""
    stripped = line.strip()
    words = _words(stripped)
    spaced = _SPACED_LINK.match(stripped)
    if spaced is not None:
        rest = stripped[spaced.end() :]
        if 3 <= _words(rest) <= TEASER_WORDS and not (spaced.group("loose")
                                                     and rest.rstrip("\"'”’)").endswith(".")):
            return True
    if words <= FURNITURE_WORDS and (_FURNITURE.search(stripped) or _SUBSCRIBE_BUTTON.search(stripped)):
        return True
    if words <= CONTACT_WORDS and _CONTACT.search(stripped) and _ADDRESS.search(stripped):
        return True
    return _is_notice(stripped)


def _is_notice(line: str) -> bool:
    return _words(line) <= NOTICE_WORDS and bool(_NOTICE.search(line) or _NOTICE_OPENING.match(line)) \
        and not _ADDRESS.search(line)


_LINE = re.compile(r"[^\n]+")


def _line_spans(text: str, start: int = 0) -> list[tuple[int, int]]:
    """(start, end) of every non-blank line from `start` on, trimmed of surrounding whitespace."""
    spans = []
    for match in _LINE.finditer(text, start):
        raw = match.group()
        if raw.strip():
            start = match.start() + (len(raw) - len(raw.lstrip()))
            end = match.end() - (len(raw) - len(raw.rstrip()))
            spans.append((start, end))
    return spans


def keep_article_lines(text: str, begin: int = 0, titled: bool = False) -> list[tuple[int, int]]:
    """The spans of `text`'s lines from `begin` on that belong to the article, debris and page chrome dropped.
    `titled`: the headline is known from metadata, so no short line before the first paragraph is it."""
    kept: list[tuple[int, int]] = []
    furniture: set[tuple[int, int]] = set()
    previous: str | None = None
    stamped: int | None = None  # how many lines were kept above the first time stamp
    for start, end in _line_spans(text, begin):
        label = _SENTENCE_LABEL.match(text, start, end)
        if label is not None:
            if label.end() == end:
                continue  # the label alone on its line
            start = label.end()  # the label goes, the sentence after it stays
        line = text[start:end]
        if _STAMP.match(line.strip()):
            stamped = len(kept) if stamped is None else stamped
        elif not _is_debris(line, previous):
            kept.append((start, end))
            if _is_furniture(line) if previous is not None else _is_notice(line.strip()):
                furniture.add((start, end))
        previous = line.strip()
    # Page chrome before the headline: short labels ("Accessibility links", "Breaking News") are dropped only
    # when a headline follows them. With none after them, the first short line *is* the headline ("Super
    # Bowl 50" above its first paragraph) and is never thrown away.
    # With the headline known from metadata, what stands before the first paragraph is page chrome or the byline
    # block: short labels and bylines ("Alasdair Pal and Byron Kaye" over "Reuters", as "Adam Shell" over "USA
    # TODAY"); where a time stamp closes that block ("Kim Hjelmgaard, USA TODAY" over "Updated Jan. 13, 2022, 5:53
    # p.m. ET"), all above it, and nothing below it, which is the story's ("Hills council lauded" heading the first
    # letter to the editor). 1,091 bylines of the archive that a word count had kept go, with the outlet labels under
    # them ("Reuters", "Associated Press"); of 40 read, and all 17 that name no outlet, each was a byline.
    if titled and stamped is not None and stamped <= HEADER_LINES \
            and all(_words(text[s:e]) <= HEADLINE_WORDS for s, e in kept[:stamped]):
        del kept[:stamped]
    else:
        first = next((i for i, (s, e) in enumerate(kept)
                      if not (_is_short_label(text[s:e]) or titled and _is_byline(text[s:e]))), None)
        if first is not None and (titled or (_is_headline(text[kept[first][0] : kept[first][1]])
                                             and not _runs_on(text, kept[first][1]))):
            del kept[:first]
    # ... and after the last paragraph ("Source", "Tags", "Share"; "More on the Met Gala:", "USA TODAY's Investment
    # Roundtable 2015:", the short head of a list or widget the text lacks: 138 lines of the archive), up to a short
    # credit ("Contributing: Reuters"), which says who reported the story.
    while kept and _is_trailing_label(text[kept[-1][0] : kept[-1][1]]):
        kept.pop()
    return [span for span in kept if span not in furniture]
