"""Contrasts a sentence embedding cannot see: two questions that name the same things but ask different ones.

"Is a tomato a fruit?" and "Is a tomato not a fruit?" sit at cosine > 0.9, and so do "7 minus 3" and "3 minus 7",
"after Monday" and "before Monday", "meters in a mile" and "feet in a mile". The rules are general, not lists of
pairs: a question's content words are compared with the other's after dropping the words paraphrases add or
leave out (articles, auxiliaries, polite fillers, place prepositions):
- a content word on each side that the other lacks is a substitution (another unit, noun, direction, ordinal,
  comparative, quantifier, antonym "possible"/"impossible"): a different question;
- a word only one side has is an elaboration ("capital city") unless it changes meaning by its kind: negation,
  quantifier, ordinal, superlative or comparative, direction;
- the words both share must come in the same order, but for one phrase moved ("France's capital"): two words that
  change places swap what is asked ("centimeters in 9 meters" / "meters in 9 centimeters"); operands that swap sides
  of an operator that does not commute (minus, divided, to, from, than, ...) ask the other question.
  Swapped operands of "plus" or "times" are refused too: a lost hit, never a wrong one.
A refused paraphrase costs one cache hit; a wrong hit serves a wrong answer, so the rules err towards refusing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edge.cache.entities import entities, same_entities


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words a paraphrase adds or drops without changing what is asked ("what's France's capital city?").
FILLERS = _vocabulary(
    "a an the is are was were be been being am do does did have has had what which that this these those "
    "it its of in on at for with about please tell me us give name say know you i we can could would will "
    "shall called exactly actually really just s there located"
)
NEGATIONS = _vocabulary("not no never none nobody nothing nowhere neither nor without")
QUANTIFIERS = _vocabulary("all some any every each most few many much several both either only")
ORDINAL_WORDS = _vocabulary(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth hundredth "
    "thousandth last next previous penultimate final"
)
DIRECTIONS = _vocabulary(
    "before after above below over under up down left right north south east west inside outside earlier "
    "later higher lower more less least increase decrease forward backward"
)
# Operators whose operands do not commute: "7 minus 3" is not "3 minus 7", "miles to km" not "km to miles".
RELATIONS = _vocabulary("in of per")
ORDERED_OPERATORS = _vocabulary("minus divided over to from than into subtract subtracted per versus vs")
SYMBOLS = {
    "+": " plus ",
    "-": " minus ",
    "−": " minus ",
    "*": " times ",
    "×": " times ",
    "/": " divided by ",
    "÷": " divided by ",
}
_ORDINAL_NUMBER = re.compile(r"^\d+(?:st|nd|rd|th)$")
_SUPERLATIVE = re.compile(r"^[a-z]{2,}(?:est|iest)$")
_COMPARATIVE_CONTEXT = "than"
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*(?:st|nd|rd|th)?|[^\W\d_]+")  # letters of any script
_CONTRACTIONS = (
    (re.compile(r"\bcan[’']t\b|\bcannot\b"), "can not"),
    (re.compile(r"\bwon[’']t\b"), "will not"),
    (re.compile(r"n[’']t\b"), " not"),
    (re.compile(r"[’']s\b"), ""),
    (re.compile(r"[’']re\b"), " are"),
)
_SYMBOL = re.compile(r"(?<=[\d\s])[-−+*×/÷](?=[\s\d])")


@dataclass(frozen=True)
class Contrast:
    """Why two questions are different ones: the rule and the words that show it."""

    rule: str
    words: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.rule}: {', '.join(self.words)}"


def tokens(text: str) -> list[str]:
    """Lower-cased words and numbers, contractions expanded and arithmetic symbols spelled out."""
    text = text.casefold()
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = _SYMBOL.sub(lambda m: SYMBOLS[m.group(0)], text)
    return [t if t in FILLERS else _stem(t) for t in _TOKEN.findall(text.replace(",", ""))]


def _stem(word: str) -> str:
    """Plural and possessive forms name the same thing: "meters" is "meter", "countries" is "country"."""
    if word.isdigit() or len(word) <= 3 or word.endswith("ss"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("us") else word


def _meaningful(word: str, other_tokens: list[str]) -> bool:
    """A word whose presence alone changes what is asked."""
    return (
        word in NEGATIONS
        or word in QUANTIFIERS
        or word in ORDINAL_WORDS
        or word in DIRECTIONS
        or bool(_ORDINAL_NUMBER.match(word))
        or bool(_SUPERLATIVE.match(word))
        or (word.endswith("er") and _COMPARATIVE_CONTEXT in other_tokens)
    )


def _operands(words: list[str], relations: set[str]) -> list[tuple[str, str | None, str | None]]:
    """Each ordered operator (and each of `relations`) with the nearest content word before and after it."""
    operators = ORDERED_OPERATORS | relations
    content = [w for w in words if w not in FILLERS or w in relations]
    found = []
    for j, word in enumerate(content):
        if word in operators:
            before = next((w for w in reversed(content[:j]) if w not in operators), None)
            after = next((w for w in content[j + 1 :] if w not in operators), None)
            found.append((word, before, after))
    return found


def _moves(words_a: list[str], words_b: list[str]) -> int:
    """How many of the content words both questions share must move to put one question's order into the
    other's (shared words minus their longest common subsequence). A paraphrase moves one phrase ("France's
    capital"); two words that change places ("centimeters in 9 meters", "meters in 9 centimeters") move two."""
    common = set(words_a) & set(words_b)
    seq_a = [w for w in words_a if w in common and w not in FILLERS]
    seq_b = [w for w in words_b if w in common and w not in FILLERS]
    lcs = [0] * (len(seq_b) + 1)
    for x in seq_a:
        previous = 0
        for j, y in enumerate(seq_b, 1):
            previous, lcs[j] = lcs[j], previous + 1 if x == y else max(lcs[j], lcs[j - 1])
    return min(len(seq_a), len(seq_b)) - lcs[-1]


def contrast(a: str, b: str) -> Contrast | None:
    """Why `a` and `b` ask different things, or None when no rule tells them apart."""
    if not same_entities(a, b):
        return Contrast("entities", tuple(sorted(entities(a) ^ entities(b))))
    words_a, words_b = tokens(a), tokens(b)
    content_a, content_b = set(words_a) - FILLERS, set(words_b) - FILLERS
    only_a, only_b = sorted(content_a - content_b), sorted(content_b - content_a)
    if only_a and only_b:
        return Contrast("substitution", (*only_a, "/", *only_b))
    inserted = [w for w in only_a if _meaningful(w, words_a)] + [w for w in only_b if _meaningful(w, words_b)]
    if inserted:
        return Contrast("meaning word on one side", tuple(inserted))
    if sum(map(NEGATIONS.__contains__, words_a)) % 2 != sum(map(NEGATIONS.__contains__, words_b)) % 2:
        return Contrast("polarity", tuple(sorted(NEGATIONS & (set(words_a) | set(words_b)))))
    # "in", "of", "per" order their operands too when both questions use them ("centimeters in a meter" is not
    # "meters in a centimeter"); one side's "of" alone is a paraphrase ("capital of France", "France's capital").
    relations = set(RELATIONS) & set(words_a) & set(words_b)
    ops_a, ops_b = _operands(words_a, relations), _operands(words_b, relations)
    shared = {op for op, _, _ in ops_a} & {op for op, _, _ in ops_b}
    for op in sorted(shared):
        sides_b = {(x, y) for o, x, y in ops_b if o == op}
        if any(x != y and (y, x) in sides_b for o, x, y in ops_a if o == op):
            return Contrast("operand order", (op,))
    if _moves(words_a, words_b) >= 2:
        return Contrast("words changed places", tuple(sorted(content_a & content_b)))
    return None


def same_question(a: str, b: str) -> bool:
    return contrast(a, b) is None
