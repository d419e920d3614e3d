"""The personal-data guard (docs/domain.md, invariant 5).

Public text (need titles, descriptions, donor messages, impact stories) must not carry a
beneficiary's personal data. :func:`find_personal_data` looks for

* resident registration numbers (주민등록번호, also foreigners' 외국인등록번호): whole, masked
  in any way that still shows the birth date and sex (``770812-1●●●●●●``, ``770812-1``), or
  named in words (``앞자리 770812, 뒷자리 1234567``),
* phone numbers (mobile, landline, 070, 050x safe numbers; +82 forms; full-width digits),
* e-mail addresses, Korean domain names included, and written to dodge a machine
  (``kim at naver dot com``, ``kim(at)daum.net``, ``kim 골뱅이 naver.com``, ``kim @ naver.com``),
* bank account numbers (hyphenated digit groups, or a digit run right after a bank word),
* detailed addresses (번지, 동/호 and 층/호 units, basement and home units such as ``B02호`` or
  ``행복맨션 203호``, road address + building number, also followed by 가정/가구, lot numbers),

and names what it found, with a masked excerpt and the offset in the ORIGINAL text. The caller
also checks the text as the reader sees it once rendered (``check_fields(..., shown=...)``):
this module stays pure and takes that text as a plain string.

Deliberately NOT flagged, because they are organisation data that is public anyway, or not a
person's at all:

* business registration numbers (사업자등록번호, the 3-2-5 shape ``123-45-67890``) and
  corporate registration numbers (법인등록번호) written after the word 법인;
* 15xx/16xx/18xx representative numbers (대표번호, e.g. ``1588-1234``) and 080 toll-free
  numbers: only businesses and public bodies have them; short public lines (129, 1366) never
  had the shape of a phone number;
* a bare administrative dong, district or city name (화정1동, 서구, 광주광역시): the site shows
  the dong of every need;
* document numbers that start with a date (``2024-0717-0032``), EAN-13 barcodes of Korean goods
  (``880...``), and rooms of public buildings (``3층 301호 회의실``, ``센터 2층 205호에서 특강``)
  unless a word for a home is near.

Office landlines (062-360-xxxx) ARE flagged: the guard cannot tell an office's line from a home's.

How it works: the text is normalised one character at a time (NFKC, dashes folded to '-',
zero-width characters dropped) while remembering where each normalised character came from,
so that patterns are written once for ASCII and offsets still point into the original text.
Each detector yields candidates; overlaps are resolved by priority
(email > rrn > bank_account > phone > address), then by length.

Pure: stdlib only, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

KINDS: tuple[str, ...] = ("rrn", "phone", "email", "bank_account", "address")

# Plain English: the web layer uses these as gettext msgids.
KIND_LABELS: dict[str, str] = {
    "rrn": "resident registration number",
    "phone": "phone number",
    "email": "e-mail address",
    "bank_account": "bank account number",
    "address": "detailed address",
}


@dataclass(frozen=True)
class Finding:
    kind: str  # one of KINDS
    masked: str  # the match with most characters masked; never the full value
    offset: int  # index in the ORIGINAL text where the match starts
    length: int  # length of the match in the original text


@dataclass(frozen=True)
class FieldFinding:
    field: str
    finding: Finding
    # Found only in the text as the reader sees it (rendered Markdown, entities decoded, markup
    # stripped), not in what was typed: ``&#48;10-1234-5678`` or ``010-**1234**-5678``. The
    # offset then points into that text, not into the field.
    as_shown: bool = False


# --------------------------------------------------------------------------------------------
# Normalisation with an offset map
# --------------------------------------------------------------------------------------------

# Dashes that NFKC leaves alone but people (and word processors) use inside numbers.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58"), "-")
# Invisible characters that could be slipped into a number to dodge the check.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e\u034f")


def _normalise(text: str) -> tuple[str, list[int]]:
    """Return the normalised text and, for each of its characters, the original index.

    Normalising character by character (rather than the whole string) keeps the map exact:
    NFKC may turn one character into several ("①" -> "1"), never several into one here.
    The map has one extra entry, ``len(text)``, so an end offset can always be looked up.
    """
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in _INVISIBLE:
            continue
        for out in unicodedata.normalize("NFKC", char).translate(_DASHES):
            chars.append(out)
            origin.append(index)
    origin.append(len(text))
    return "".join(chars), origin


def _original_span(origin: list[int], start: int, end: int) -> tuple[int, int]:
    """Map a [start, end) span of the normalised text back to the original text."""
    return origin[start], origin[end - 1] + 1


# --------------------------------------------------------------------------------------------
# Shared pattern pieces
# --------------------------------------------------------------------------------------------

# A number ends here: not followed by another digit, nor by a separator and a digit (so that
# "150" in "150,000", "2026" in "2026-11-29" or "2026. 11. 29." or "14" in "14:30" is never
# taken on its own).
_NUM_END = r"(?!\d|[,.\-/:~]\d|\.[ \t]\d)"

# Not the tail of a longer number or of an amount with thousands separators ("1,031 ...").
_NUM_START = r"(?<!\d)(?<!\d[,.])"

# Counters and units: a number followed by one of these is a quantity (12명, 40회, 2026년,
# 150,000원, 38 of 40 trips), never a building or lot number. Used after road and lot names,
# because Korean particles make "서울로 40회" look like a road ("...로") and a number.
_HANGUL_UNITS = (
    "원|만|억|천|명|인|회|번|개|가구|가정|세대|곳|건|년|개월|월|일|주|시간|시|분|초|세|살|"
    "퍼센트|프로|배|대|차|평|층|호|동|등|위|점|권|장|벌|병|상자|박스|통|마리|가지|종|학년|반|"
    "기|단계|km|kg"
)
_PARTICLES = "이|가|을|를|은|는|의|에|과|와|도|씩|당|으로|로|에서|입니다|이며"
_ASCII_UNITS = (
    "won|krw|of|x|times|trips?|people|persons?|percent|days?|weeks?|months?|years?|hours?|"
    "minutes?|km|kg|cm|m"
)
_NOT_QUANTITY = (
    r"(?!"
    rf"(?:{_HANGUL_UNITS})"  # 40회, 12명 (attached counter)
    rf"|[ \t]+(?:{_HANGUL_UNITS})(?:{_PARTICLES})?(?![가-힣])"  # "12 가구", "40 회를"
    r"|[ \t]*[%×*~]"  # 12%, 3 x 4, 12~15
    rf"|[ \t]*(?i:{_ASCII_UNITS})(?![A-Za-z])"  # 38 of 40 trips, 150 won
    r")"
)

# Directly after a building or lot number only a particle may follow ("화정로 123에", "123의"),
# not another syllable: "충장로1가" is a place name, "123명" a count.
_ATTACHED_OK = r"(?:(?![가-힣])|(?=[에의은는이을를도으로과와까]))"


def _digit_count(s: str) -> int:
    return sum(c.isdigit() for c in s)


def _mask_group(match: re.Match[str], group: str) -> str:
    """The whole match with the digits of one named group replaced by '*'."""
    whole = match.group(0)
    start = match.start(group) - match.start()
    end = match.end(group) - match.start()
    return whole[:start] + re.sub(r"\d", "*", whole[start:end]) + whole[end:]


def _mask_digits(s: str, keep_head: int, keep_tail: int, maskable: str = "0123456789") -> str:
    """Mask every maskable character except the first ``keep_head`` and last ``keep_tail``."""
    total = sum(c in maskable for c in s)
    out: list[str] = []
    seen = 0
    for char in s:
        if char in maskable:
            keep = seen < keep_head or seen >= total - keep_tail
            out.append(char if keep else "*")
            seen += 1
        else:
            out.append(char)
    return "".join(out)


@dataclass(frozen=True)
class _Candidate:
    kind: str
    start: int  # in the normalised text
    end: int
    masked: str
    separated: bool = True  # for rrn: written with a separator between the two parts
    bank_context: bool = False  # for bank_account: right after a bank word


# --------------------------------------------------------------------------------------------
# Resident registration numbers (주민등록번호)
# --------------------------------------------------------------------------------------------

# Characters people mask digits with: "900101-1******", "770812-1●●●●●●", "580101-1######".
_MASKS = "xX*●○#•■□◯"
_MASK = f"[{re.escape(_MASKS)}]"

# YYMMDD, an optional '-' (spaces allowed around it), then the 7th digit 1-8 (1-4 citizens
# born 1900-2099, 5-8 foreigners) and six more digits, which may be masked. A masked number
# still gives the birth date and the sex, so "770812-1●●●●●●" and even "770812-1" (the sex
# digit alone, after a hyphen) are personal data; "900101-*******" gives the birth date.
# Since 2020 the last digits are random, so there is no checksum to test; the date is checked
# in code instead (_plausible_birth_date).
_RRN_RE = re.compile(
    rf"""
    {_NUM_START}(?<!-)
    (?P<birth>\d{{6}})
    (?P<sep>[ \t]*-?[ \t]*)
    (?P<rest>[1-8](?:\d|{_MASK}){{0,6}}|{_MASK}{{7}})
    (?!\d|{_MASK})
    """,
    re.VERBOSE,
)
# After a short form ("240715-1"), a counter makes it a document or item number: "제240715-1호".
_SHORT_FORM_COUNTER_RE = re.compile(r"[ \t]*(?:호|번|차|회|단계|쪽|[,.\-/]\d)")

# The two halves named in words: "주민번호 앞자리 770812, 뒷자리 1234567", "앞 6자리 801010,
# 뒤 7자리 1******", "앞자리 700909에 뒷자리는 1로 시작", "생년월일 050505, 뒷자리 4******".
_RRN_SPLIT_RE = re.compile(
    rf"""
    (?:앞[ \t]*(?:(?:6|여섯)[ \t]*)?(?:자리|번호|부분)|생년월일)[^\d\n]{{0,8}}?
    (?<!\d)(?P<birth>\d{{6}})(?!\d)
    [^\d\n]{{0,15}}?
    (?:뒷|뒤)[ \t]*(?:(?:7|일곱)[ \t]*)?(?:자리|번호|부분)[^\d\n]{{0,8}}?
    (?<!\d)(?P<rest>[1-8](?:\d|{_MASK}){{0,6}})(?!\d|{_MASK})
    """,
    re.VERBOSE,
)

_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # Feb 29: leap years exist

# Corporate registration numbers (법인등록번호) share the 6-7 shape; after the word 법인 the
# number is an organisation's, which is public.
_CORPORATE_CONTEXT_RE = re.compile(r"법인[가-힣 \t:]{0,8}$")
# Words that say a number is a person's: they overrule the barcode test below.
_RRN_CONTEXT_RE = re.compile(r"(?:주민|등록번호|생년월일|외국인)[^\n]{0,20}$")


def _plausible_birth_date(yymmdd: str) -> bool:
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    return 1 <= month <= 12 and 1 <= day <= _DAYS_IN_MONTH[month - 1]


# Words for goods and their labels: a 13-digit 880... number after them is a barcode even when
# it was copied with a wrong check digit.
_GOODS_CONTEXT_RE = re.compile(r"(?:바코드|상품|제품|물품|품목|상자|박스|코드|(?i:ean|barcode))[^\n]{0,20}$")


def _is_korean_barcode(digits: str, text: str, start: int) -> bool:
    """An EAN-13 barcode of a product made in Korea (GS1 prefix 880): the label of donated goods,
    not a person, although "8801234567893" also starts with a valid birth date. It must have a
    valid check digit or follow a word for goods, and no word for a person's number."""
    if len(digits) != 13 or not digits.isdigit() or not digits.startswith("880"):
        return False
    if _RRN_CONTEXT_RE.search(text, 0, start):
        return False
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == int(digits[12]) or bool(_GOODS_CONTEXT_RE.search(text, 0, start))


def _rrn_candidates(text: str) -> Iterator[_Candidate]:
    maskable = "0123456789" + _MASKS
    for m in _RRN_RE.finditer(text):
        birth, sep, rest = m.group("birth"), m.group("sep"), m.group("rest")
        if not _plausible_birth_date(birth):
            continue
        if _CORPORATE_CONTEXT_RE.search(text, 0, m.start()):
            continue
        if len(rest) < 7:  # the sex digit with fewer masks: only written with a hyphen
            if "-" not in sep or _SHORT_FORM_COUNTER_RE.match(text, m.end()):
                continue
        if not sep and _is_korean_barcode(birth + rest, text, m.start()):
            continue
        masked = _mask_digits(m.group(0), keep_head=4, keep_tail=0, maskable=maskable)
        yield _Candidate("rrn", m.start(), m.end(), masked, separated=bool(sep))
    for m in _RRN_SPLIT_RE.finditer(text):
        if not _plausible_birth_date(m.group("birth")):
            continue
        start, end = m.start("birth"), m.end("rest")
        masked = _mask_digits(text[start:end], keep_head=4, keep_tail=0, maskable=maskable)
        yield _Candidate("rrn", start, end, masked)


# --------------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------------

# One separator between digit groups: '-' or '.' (spaces allowed around it) or spaces.
_SEP = r"(?:[ \t]*[-.][ \t]*|[ \t]{1,2})?"
# Area codes without the trunk 0: mobile 010/011/016-019, Seoul 02, the provinces 031-064,
# 070 internet phones and 0502-0508 safe numbers (안심번호). 080 toll-free and 15xx/16xx/18xx
# are business numbers and deliberately left out.
_AREA = r"(?:1[016789]|2|3[1-3]|4[1-4]|5[1-5]|6[1-4]|70|50[2-8])"

_PHONE_RE = re.compile(
    rf"""
    {_NUM_START}(?<![+])
    (?:
        (?:\+[ \t]*82|82) {_SEP}                 # country code: the trunk 0 is dropped...
        (?:\([ \t]*0[ \t]*\) {_SEP})?           # ...or written as (0)
        (?:\([ \t]*0?{_AREA}[ \t]*\)|0?{_AREA})
      |
        (?:\([ \t]*0{_AREA}[ \t]*\)|0{_AREA}\)?)    # domestic: 010, (02), 02), 062
    )
    {_SEP}
    (?P<mid>\d{{3,4}})
    {_SEP}
    (?P<last>\d{{4}})
    (?!\d)
    """,
    re.VERBOSE,
)


def _phone_candidates(text: str) -> Iterator[_Candidate]:
    for m in _PHONE_RE.finditer(text):
        yield _Candidate("phone", m.start(), m.end(), _mask_group(m, "mid"))


# --------------------------------------------------------------------------------------------
# E-mail addresses
# --------------------------------------------------------------------------------------------

# A practical address shape (not full RFC 5322), Korean domain names included (나눔@서구복지.한국),
# and the ways people write an address so that a machine will not read it: "kim at naver dot com",
# "kim(at)daum.net", "kim[at]gmail[dot]com", "kim 골뱅이 naver.com" (골뱅이 is Korean for @;
# 앳 and 닷 spell "at" and "dot"), "kim @ naver.com". Boundaries are ASCII-only so that a Korean particle may follow
# ("...@daum.net으로") or precede without a space.
_AT = (
    r"(?P<at>[ \t]*@[ \t]*"
    r"|[ \t]*[(\[{<][ \t]*(?:(?i:at)|@|골뱅이|앳)[ \t]*[)\]}>][ \t]*"
    r"|[ \t]+(?:(?i:at)|앳)[ \t]+"
    r"|[ \t]*골뱅이[ \t]*)"
)
_DOT = (
    r"(?:[ \t]*\.[ \t]*"
    r"|[ \t]*[(\[{<][ \t]*(?:(?i:dot)|닷|점)[ \t]*[)\]}>][ \t]*"
    r"|[ \t]+(?i:dot)[ \t]+"
    r"|[ \t]*닷[ \t]*)"
)
_DOT_RE = re.compile(_DOT)
_LABEL = r"[A-Za-z0-9가-힣](?:[A-Za-z0-9가-힣\-]{0,61}[A-Za-z0-9가-힣])?"
_EMAIL_RE = re.compile(
    rf"""
    (?P<local>(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{{0,63}}
             |(?<![A-Za-z0-9가-힣])[가-힣]{{1,12}})
    {_AT}
    (?P<domain>(?:{_LABEL}{_DOT})+(?P<tld>[A-Za-z]{{2,24}}(?![A-Za-z0-9\-])|한국))
    """,
    re.VERBOSE,
)
# An address written the loose way must end in a common top-level domain: "her at jane.doe" or
# "meet at 3 dot" are prose.
_LOOSE_TLDS = frozenset("com net org kr edu gov info biz io me co jp us 한국".split())
_PLAIN_DOMAIN_RE = re.compile(r"[A-Za-z0-9가-힣.\-]+")


def _email_candidates(text: str) -> Iterator[_Candidate]:
    position = 0
    while (m := _EMAIL_RE.search(text, position)) is not None:
        local, domain = m.group("local"), m.group("domain")
        plain = m.group("at") == "@" and _PLAIN_DOMAIN_RE.fullmatch(domain)
        if not plain and m.group("tld").lower() not in _LOOSE_TLDS:
            position = m.start() + 1  # prose ("her at jane.doe"); an address may start inside it
            continue
        position = m.end()
        keep = 1 if len(local) <= 2 or not local.isascii() else 2
        masked = f"{local[:keep]}***@{_DOT_RE.sub('.', domain)}"
        yield _Candidate("email", m.start(), m.end(), masked)


# --------------------------------------------------------------------------------------------
# Bank account numbers
# --------------------------------------------------------------------------------------------

# Korean account numbers are 10-14 digits, usually printed as 3-4 hyphenated groups
# (110-123-456789, 1002-123-456789, 123-456789-01-001, 3333-01-1234567). The first group has
# at least 3 digits, which keeps "+82 10-1234-5678" out.
_ACCOUNT_GROUPS_RE = re.compile(
    rf"""
    {_NUM_START}(?<!-)
    \d{{3,6}}(?:-\d{{2,7}}){{2,3}}
    (?![\d\-]|[,.]\d)
    """,
    re.VERBOSE,
)

# Words that announce an account number. Long names first so that "카카오뱅크" wins over "뱅크".
# City names (광주, 부산, 대구) are NOT here: "광주 062-..." is a phone; "광주은행" is caught
# by "은행" anyway.
_BANK_WORD = (
    r"(?P<word>카카오뱅크|토스뱅크|케이뱅크|새마을금고|우체국|농협|신한|국민|우리|하나|기업|"
    r"신협|수협|씨티|SC제일|은행|계좌|예금주|입금|송금|이체|무통장|(?i:account|acct|bank))"
)
# Everyday words among the bank names: "우리 센터", "하나", "착한 기업", "국민 여러분". After
# these, a number that is shaped like a phone number stays a phone number.
_AMBIGUOUS_BANK_WORDS = frozenset({"우리", "하나", "기업", "국민"})
# What may stand between the bank word and the number: "국민은행 계좌번호: ", "(예금주 홍길동) ".
_BANK_GAP = r"(?:[ \t:/·,#]|은행|뱅크|계좌|번호|예금주|\([^()\d\n]{0,20}\)|(?i:no\.?|number))*"
# After a bank word any 10-14 digit run counts, with hyphens, spaces or none.
_BANK_CONTEXT_RE = re.compile(
    rf"""
    {_BANK_WORD}
    {_BANK_GAP}
    {_NUM_START}
    (?P<num>\d{{10,14}}|\d{{2,6}}(?:-\d{{1,7}}){{1,4}}|\d{{2,6}}(?:[ \t]\d{{2,7}}){{2,3}})
    (?![\d\-]|[,.]\d)
    (?![ \t]*(?:원|won|만|억|천))                    # an amount without commas, not an account
    """,
    re.VERBOSE,
)

# 사업자등록번호 (business registration number): 3-2-5. Organisation data, public: not flagged.
_BUSINESS_NUMBER_RE = re.compile(r"\d{3}-\d{2}-\d{5}")


def _plausible_account(number: str) -> bool:
    if not 10 <= _digit_count(number) <= 14:
        return False
    return not _BUSINESS_NUMBER_RE.fullmatch(number)


def _looks_like_date(groups: list[str]) -> bool:
    """Document numbers start with a date: 2026-11-29-0001, 2024-0717-0032 (year, then month
    and day grouped), 2026-1201-000045."""
    year, second = groups[0], groups[1]
    if not (len(year) == 4 and 1900 <= int(year) <= 2099):
        return False
    if len(second) == 2:
        return 1 <= int(second) <= 12
    return len(second) == 4 and _plausible_birth_date("00" + second)


# 080 toll-free numbers (수신자 부담) belong to businesses and public bodies, like 15xx numbers:
# not a phone number to flag, and not a bank account either.
_TOLL_FREE_RE = re.compile(r"080[ \t]*-?[ \t]*\d{3,4}[ \t]*-?[ \t]*\d{4}")


def _bank_account_candidates(text: str) -> Iterator[_Candidate]:
    for m in _ACCOUNT_GROUPS_RE.finditer(text):
        number = m.group(0)
        if not _plausible_account(number) or _PHONE_RE.fullmatch(number) or _TOLL_FREE_RE.fullmatch(number):
            continue
        if _looks_like_date(number.split("-")):
            continue
        masked = _mask_digits(number, keep_head=3, keep_tail=3)
        yield _Candidate("bank_account", m.start(), m.end(), masked)
    for m in _BANK_CONTEXT_RE.finditer(text):
        number = m.group("num")
        if not _plausible_account(number):
            continue
        if m.group("word") in _AMBIGUOUS_BANK_WORDS and (_PHONE_RE.fullmatch(number) or _TOLL_FREE_RE.fullmatch(number)):
            continue
        masked = _mask_digits(number, keep_head=3, keep_tail=3)
        yield _Candidate("bank_account", m.start("num"), m.end("num"), masked, bank_context=True)


# --------------------------------------------------------------------------------------------
# Detailed addresses
# --------------------------------------------------------------------------------------------

# Lot address with 번지: "123번지", "12-3 번지", "산 12-3번지" (산 = mountain lot).
_BUNJI_RE = re.compile(
    r"(?<![0-9A-Za-z\-])(?P<secret>(?:산[ \t]*)?\d{1,5}(?:-\d{1,5})?)[ \t]*번지"
)

# Apartment / building unit: "101동 1203호", "B동 201호", "가동 201호", "3층 302호",
# "101-1203호". An administrative dong such as "화정1동" has one digit glued to Hangul, so a
# building number glued to Hangul must have at least two digits ("그린아파트101동").
_UNIT_RE = re.compile(
    r"""
    (?:
        (?:(?<![0-9A-Za-z가-힣])\d{1,4}|(?<=[가-힣])\d{2,4}|(?<![0-9A-Za-z])[A-Za-z]
           |(?<![0-9A-Za-z가-힣])[가나다라마바사])
        [ \t]*동
      |
        (?<![0-9A-Za-z])(?:[Bb]|지하[ \t]*)?\d{1,3}[ \t]*층
    )
    [ \t]*
    (?P<secret>[Bb]?\d{1,5})[ \t]*호
    """,
    re.VERBOSE,
)
# A basement unit needs no building number: "반지하 B02호", "그린빌라 B01호".
_BASEMENT_UNIT_RE = re.compile(r"(?<![0-9A-Za-z])(?P<secret>[Bb]\d{1,4})[ \t]*호(?!실|점|선)")
# A unit right after a word for a home: "행복맨션 203호", "고시원 205호", "쪽방 12호".
_HOME_UNIT_RE = re.compile(
    r"(?:아파트|빌라|맨션|주택|연립|다세대|원룸|투룸|오피스텔|하이츠|고시원|고시텔|쪽방|빌)"
    r"[ \t]*(?P<secret>[Bb]?\d{1,4})[ \t]*호(?!실|점|선|기|차)"
)

# A floor and room in a public building are where a meeting or a class is held, not a home:
# "3층 301호 회의실", "행정복지센터 2층 205호에서 ... 특강". Words for a home nearby overrule them.
_PUBLIC_ROOM_AFTER_RE = re.compile(
    r"[^\n]{0,30}?(?:회의실|강당|강의실|교육장|교육실|상담실|프로그램실|세미나실|사무실|민원실|다목적실|"
    r"대기실|자료실|연습실|조리실|체육실|교실|특강|강좌|강의|교육|설명회|간담회|회의|모임|행사|수업|"
    r"세미나|워크숍|보고회|총회|접수|진행|열리|열립|엽니다|개최|대관|예약)"
)
# ... or the room is named right after the number: "203호 자원봉사센터", "402호 북카페", "201호 기획상황실".
_ROOM_NAME_AFTER_RE = re.compile(
    r"[ \t]*[가-힣]{0,8}(?:실|센터|카페|도서관|교육장|공연장|강당)(?:에서|에|을|를|은|는|이|가|의|로)?(?![가-힣])"
)
_PUBLIC_BUILDING_BEFORE_RE = re.compile(
    r"(?:구청|청사|센터|복지관|도서관|수련관|회관|본관|별관|행사장|경로당|학교|체육관)[^\n]{0,12}$"
)
_HOME_WORDS = (
    r"(?:사시|사는|살고|살아|거주|지내|댁|자택|(?<![가-힣])집|세대|가구|가정|입주|이사(?!장|회)|혼자|홀로|"
    r"아파트|빌라|맨션|주택|연립|다세대|원룸|투룸|오피스텔|고시원|쪽방|반지하)"
)
_HOME_AFTER_RE = re.compile(rf"[^\n]{{0,30}}?{_HOME_WORDS}")
_HOME_BEFORE_RE = re.compile(rf"{_HOME_WORDS}[^\n]{{0,15}}$")
# "101-1203호": building-unit with a hyphen. Not after 제 ("제2026-123호" is a document number).
_UNIT_HYPHEN_RE = re.compile(
    r"(?<![0-9A-Za-z\-제])(?P<building>\d{1,4})-(?P<secret>\d{2,4})[ \t]*호"
)

# Road address (도로명주소): a road name ending in 로/길/대로, an optional branch road
# ("12번길"), then the building number ("화정로 123", "상무대로 45-6", "풍암길 12번길 7").
_ROAD_RE = re.compile(
    rf"""
    (?<![가-힣A-Za-z0-9])
    (?P<road>[가-힣][가-힣0-9]{{0,14}}(?:로|길))
    [ \t]*
    (?:\d{{1,4}}(?:번|번안)?길[ \t]*)?
    (?P<secret>\d{{1,5}}(?:-\d{{1,5}})?)
    {_NUM_END}{_NOT_QUANTITY}{_ATTACHED_OK}
    """,
    re.VERBOSE,
)
# A road address and "가정"/"가구" (home, household): "상무대로 1123 가정에 쌀을 전달". After a
# noun with the particle 로 ("센터로 12가구가 신청") the same words are a count, written with the
# counter attached, so the road must look like one: a 대로 or 길, a branch road, a hyphenated
# number, a district or city before it, or a space between the number and 가정/가구.
_ROAD_HOME_RE = re.compile(
    r"""
    (?<![가-힣A-Za-z0-9])
    (?P<road>[가-힣][가-힣0-9]{0,14}(?:로|길))
    [ \t]*
    (?P<branch>\d{1,4}(?:번|번안)?길[ \t]*)?
    (?P<secret>\d{1,5}(?:-\d{1,5})?)
    (?P<space>[ \t]*)(?:가정|가구)
    """,
    re.VERBOSE,
)
_PLACE_BEFORE_RE = re.compile(r"(?:[가-힣]+(?:시|구|군)|광주|서울)[ \t]+$")

# The same in romanised form: "Hwajeong-ro 123", "Sangmu-daero 45-6".
_ROMAN_ROAD_RE = re.compile(
    rf"""
    (?<![A-Za-z0-9\-])
    [A-Za-z]+(?:-[A-Za-z]+)*-(?:daero|ro|gil)
    [ \t]+
    (?P<secret>\d{{1,5}}(?:-\d{{1,5}})?)
    {_NUM_END}{_NOT_QUANTITY}
    """,
    re.VERBOSE | re.IGNORECASE,
)
# Particles and adverbs that end in 로/대로/길 like a road name: "병원으로", "계획대로", "바로".
_NOT_ROADS = frozenset(
    "그대로 계획대로 마음대로 순서대로 약속대로 예정대로 생각대로 말대로 제대로 절대로 대로 "
    "바로 새로 서로 주로 따로 홀로 별로 스스로 실제로 대체로 최대로 최소로 추가로 무료로 "
    "정기로 매월로 매달로 처음로 길 출근길 퇴근길 귀갓길 하굣길 등굣길 오솔길".split()
)

# Lot address (지번주소): a legal dong / ri / ga name and a lot number: "농성동 123-4",
# "쌍촌동 123", "농성동 산 12-3", "충장로1가 12-3".
_LOT_RE = re.compile(
    rf"""
    (?<![가-힣A-Za-z0-9])
    (?P<place>[가-힣]{{1,8}}\d{{0,2}}(?:동|리|가))
    [ \t]*
    (?P<secret>(?:산[ \t]*)?\d{{1,5}}(?:-\d{{1,5}})?)
    (?:[ \t]*번지)?
    {_NUM_END}{_NOT_QUANTITY}{_ATTACHED_OK}
    """,
    re.VERBOSE,
)
# Everyday nouns that end in 동/리/가 like a place name: "활동 12", "우리 3", "단가 150".
_NOT_PLACES = frozenset(
    "활동 운동 이동 행동 공동 자동 감동 노동 변동 출동 연동 작동 가동 발동 아동 협동 파동 "
    "충동 소동 진동 구동 기동 유동 합동 선동 부동 "
    "우리 거리 자리 마리 머리 소리 관리 처리 정리 요리 수리 유리 무리 다리 원리 권리 심리 "
    "단가 평가 추가 증가 참가 물가 주가 시가 원가 대가 휴가 국가 작가 전문가".split()
)


def _plausible_lot(m: re.Match[str]) -> bool:
    place = m.group("place")
    if place in _NOT_PLACES:
        return False
    explicit = "-" in m.group("secret") or "산" in m.group("secret") or "번지" in m.group(0)
    # An administrative dong (화정1동), a 리 or a 가 followed by a bare number is too often a
    # count or a name; a plain legal dong (쌍촌동 123) is a lot address.
    if place.endswith(("리", "가")) or any(c.isdigit() for c in place):
        return explicit
    return True


def _plausible_road(m: re.Match[str]) -> bool:
    road = m.group("road")
    return road not in _NOT_ROADS and not road.endswith("으로")


def _plausible_unit_hyphen(m: re.Match[str]) -> bool:
    building = m.group("building")
    return not (len(building) == 4 and building.startswith(("19", "20")))  # a year: 2026-12호


def _is_public_room(m: re.Match[str]) -> bool:
    text = m.string
    if _HOME_AFTER_RE.match(text, m.end()) or _HOME_BEFORE_RE.search(text, 0, m.start()):
        return False
    return bool(_PUBLIC_ROOM_AFTER_RE.match(text, m.end()) or _ROOM_NAME_AFTER_RE.match(text, m.end())
                or _PUBLIC_BUILDING_BEFORE_RE.search(text, 0, m.start()))


def _plausible_unit(m: re.Match[str]) -> bool:
    return not _is_public_room(m)


def _plausible_road_home(m: re.Match[str]) -> bool:
    if not _plausible_road(m):
        return False
    road = m.group("road")
    return bool(road.endswith(("대로", "길")) or m.group("branch") or "-" in m.group("secret")
                or m.group("space") or _PLACE_BEFORE_RE.search(m.string, 0, m.start()))


def _address_candidates(text: str) -> Iterator[_Candidate]:
    checks = (
        (_BUNJI_RE, None),
        (_UNIT_RE, _plausible_unit),
        (_BASEMENT_UNIT_RE, _plausible_unit),
        (_HOME_UNIT_RE, None),
        (_ROAD_HOME_RE, _plausible_road_home),
        (_UNIT_HYPHEN_RE, _plausible_unit_hyphen),
        (_ROAD_RE, _plausible_road),
        (_ROMAN_ROAD_RE, None),
        (_LOT_RE, _plausible_lot),
    )
    for pattern, plausible in checks:
        for m in pattern.finditer(text):
            if plausible is None or plausible(m):
                yield _Candidate("address", m.start(), m.end(), _mask_group(m, "secret"))


# --------------------------------------------------------------------------------------------
# Putting it together
# --------------------------------------------------------------------------------------------

# Lower wins an overlap. E-mail first: "01012345678@naver.com" is one e-mail, not a phone.
_PRIORITY = {"email": 0, "rrn": 1, "bank_account": 2, "phone": 3, "address": 4}


def _prefer_accounts_after_bank_words(candidates: list[_Candidate]) -> list[_Candidate]:
    """Drop a hyphen-less "rrn" that is exactly a digit run right after a bank word.

    "우리은행 1002123456789" is a 13-digit account that happens to start with a valid date.
    """
    account_spans = {(c.start, c.end) for c in candidates if c.bank_context}
    return [
        c
        for c in candidates
        if not (c.kind == "rrn" and not c.separated and (c.start, c.end) in account_spans)
    ]


def _resolve_overlaps(candidates: list[_Candidate]) -> list[_Candidate]:
    """Keep the most specific kind, then the longest match, then the earliest."""
    ranked = sorted(candidates, key=lambda c: (_PRIORITY[c.kind], -(c.end - c.start), c.start))
    kept: list[_Candidate] = []
    for candidate in ranked:
        if all(candidate.end <= k.start or candidate.start >= k.end for k in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda c: c.start)


def find_personal_data(text: str) -> list[Finding]:
    """Personal data in ``text``: sorted by offset, non-overlapping, offsets into ``text``."""
    if not text:
        return []
    normalised, origin = _normalise(text)
    candidates = [
        *_email_candidates(normalised),
        *_rrn_candidates(normalised),
        *_bank_account_candidates(normalised),
        *_phone_candidates(normalised),
        *_address_candidates(normalised),
    ]
    candidates = _resolve_overlaps(_prefer_accounts_after_bank_words(candidates))
    findings = []
    for c in candidates:
        start, end = _original_span(origin, c.start, c.end)
        findings.append(Finding(kind=c.kind, masked=c.masked, offset=start, length=end - start))
    return findings


def check_fields(
    fields: Mapping[str, str | None], shown: Mapping[str, str] | None = None
) -> list[FieldFinding]:
    """Check each field in order (None and empty fields are skipped).

    ``shown`` maps a field to the text a reader sees once the site has rendered it (the caller
    renders it; this module stays pure). What is found there and not already in the field itself
    (same kind, same masked value) is reported too, marked ``as_shown``.
    """
    results: list[FieldFinding] = []
    for name, value in fields.items():
        if not value:
            continue
        typed = find_personal_data(value)
        results += [FieldFinding(field=name, finding=finding) for finding in typed]
        seen = {(f.kind, f.masked) for f in typed}
        for finding in find_personal_data((shown or {}).get(name, "")):
            if (finding.kind, finding.masked) not in seen:
                seen.add((finding.kind, finding.masked))
                results.append(FieldFinding(field=name, finding=finding, as_shown=True))
    return results
