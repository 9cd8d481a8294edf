"""The rag_assistant's world as data: product documents, users' questions, chunking, a keyword
retriever, a templated "LLM" and the two quality checks. Pure and deterministic: no network, no
model weights, no MLflow.

The answer generator reads its prompt the way an instruction-following model would: with the
grounded template it answers from the best-matching context sentence (and pads a fragment with
a made-up completion); with a template that asks for "background" it adds a sentence of its own.
The checks follow the usual definitions (RAGAS, https://docs.ragas.io/en/stable/concepts/metrics/):
**faithfulness** is the share of the answer's sentences supported by the retrieved context,
**relevance** the share of the question's content words the answer addresses.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

__all__ = [
    "DOCS",
    "NEW_PRODUCT_QUESTIONS",
    "PROMPTS",
    "QUESTIONS",
    "Chunk",
    "Question",
    "chunk_documents",
    "faithfulness",
    "generate",
    "relevance",
    "render_prompt",
    "retrieve",
    "route",
    "terms",
    "words",
]

# product -> {topic: text}; the demo writes each as docs/<product>/<topic>.md
DOCS: dict[str, dict[str, str]] = {
    "cloud": {
        "backups": (
            "Acme Cloud backs up every file automatically each night at 02:00 UTC. "
            "Backups are kept for 30 days on the Standard plan and for 90 days on the Business plan. "
            "You restore a backup from the Backups page of the web console. "
            "A restore replaces the current file and moves the replaced version to the trash."
        ),
        "storage": (
            "Acme Cloud Standard includes 2 TB of storage for each user. "
            "Extra storage costs 4 euros per terabyte per month. "
            "Files larger than 50 GB must be uploaded with the desktop client. "
            "Deleted files stay in the trash for 14 days before they are removed for good."
        ),
        "sharing": (
            "Shared links can be protected with a password and an expiry date. "
            "Team folders give every member of the team edit rights by default. "
            "An owner can make a member view-only in the folder settings. "
            "Shared links stop working when the owner's account is suspended."
        ),
        "security": (
            "Acme Cloud encrypts files at rest with AES-256 and in transit with TLS 1.3. "
            "Two-factor authentication is turned on under Settings, Security. "
            "Administrators can require two-factor authentication for every member of a team. "
            "A sign-in alert is sent by email whenever a new device signs in."
        ),
        "status": (
            "The Acme status page lists current incidents and planned maintenance. "
            "Planned maintenance happens on Sundays between 01:00 and 03:00 UTC. "
            "During an incident the desktop client keeps local changes and uploads them later. "
            "You can subscribe to incident updates by email on the status page."
        ),
    },
    "mobile": {
        "offline": (
            "The Acme Mobile app keeps files marked as offline on the phone. "
            "Offline files are synced again as soon as the phone is back online. "
            "The app supports Android 12 and later and iOS 16 and later. "
            "Photos are uploaded automatically from the camera roll when the phone is on Wi-Fi."
        ),
        "notifications": (
            "The Acme Mobile app sends a notification when someone shares a folder with you. "
            "Notifications are turned off per folder from the folder menu. "
            "Quiet hours silence every notification between 22:00 and 07:00 by default. "
            "Comment mentions always notify you, even during quiet hours."
        ),
    },
    "billing": {
        "invoices": (
            "Invoices are issued on the first day of every month. "
            "Each invoice can be downloaded as a PDF from the Billing page. "
            "Payment is accepted by credit card or by SEPA direct debit. "
            "A failed payment is retried after three days and the account is suspended after fourteen days."
        ),
        "plans": (
            "The Standard plan costs 10 euros per user per month. "
            "The Business plan costs 18 euros per user per month and adds audit logs. "
            "Annual billing gives two months for free. "
            "Plans can be changed at any time and the difference is prorated."
        ),
    },
}


@dataclass(frozen=True)
class Question:
    text: str
    product: str


_Q = Question
QUESTIONS: tuple[Question, ...] = (
    _Q("When does Acme Cloud run its nightly backups?", "cloud"),
    _Q("How long are backups kept on the Standard plan?", "cloud"),
    _Q("How many days are backups kept on the Business plan?", "cloud"),
    _Q("Where do I restore a backup in the web console?", "cloud"),
    _Q("What happens to the replaced file after a restore?", "cloud"),
    _Q("How much storage does each user get with Acme Cloud Standard?", "cloud"),
    _Q("What does extra storage cost per terabyte?", "cloud"),
    _Q("How do I upload files larger than 50 GB?", "cloud"),
    _Q("How long do deleted files stay in the trash?", "cloud"),
    _Q("Can I protect a shared link with a password?", "cloud"),
    _Q("What rights do team folder members get by default?", "cloud"),
    _Q("How do I make a team member view-only in a folder?", "cloud"),
    _Q("Why did my shared links stop working?", "cloud"),
    _Q("How are my files encrypted at rest and in transit?", "cloud"),
    _Q("Where do I turn on two-factor authentication?", "cloud"),
    _Q("Can administrators require two-factor authentication for the team?", "cloud"),
    _Q("Is there an outage on the status page right now?", "cloud"),
    _Q("When is planned maintenance scheduled?", "cloud"),
    _Q("Does the Acme Mobile app keep offline files on the phone?", "mobile"),
    _Q("When are offline files synced again on mobile?", "mobile"),
    _Q("Which Android and iOS versions does the mobile app support?", "mobile"),
    _Q("Does the mobile app upload photos from the camera roll?", "mobile"),
    _Q("How do I turn off notifications for a folder in the mobile app?", "mobile"),
    _Q("When do quiet hours silence mobile notifications?", "mobile"),
    _Q("When are invoices issued each month?", "billing"),
    _Q("Where can I download an invoice as a PDF?", "billing"),
    _Q("Which payment methods are accepted for billing?", "billing"),
    _Q("What happens when a payment fails?", "billing"),
    _Q("How much does the Business plan cost per user?", "billing"),
    _Q("Does annual billing give a discount on the plan?", "billing"),
)

# Acme Vault, the product launched in the rag_topic_shift scenario: the documents do not cover it
NEW_PRODUCT_QUESTIONS: tuple[Question, ...] = (
    _Q("How do I import my browser passwords into Acme Vault?", "vault"),
    _Q("Does Acme Vault support passkeys?", "vault"),
    _Q("How do I recover a forgotten Acme Vault master password?", "vault"),
    _Q("Can I grant emergency access to my Acme Vault?", "vault"),
    _Q("Which browsers have an Acme Vault extension?", "vault"),
    _Q("Does Acme Vault autofill one-time codes?", "vault"),
)

PROMPTS = {
    1: (
        "You are the Acme support assistant. Answer the question using only the context below. "
        "If the context does not contain the answer, say you could not find it.\n\n"
        "Context:\n{{context}}\n\nQuestion: {{question}}"
    ),
    2: (
        "You are the friendly Acme support assistant. Answer the question in a helpful way and "
        "add useful background the customer may like to know.\n\n"
        "Context:\n{{context}}\n\nQuestion: {{question}}"
    ),
}

_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_STOP = frozenset({
    "a", "an", "the", "is", "are", "am", "be", "do", "does", "did", "i", "my", "me", "we", "you",
    "your", "it", "its", "of", "in", "on", "at", "to", "for", "from", "by", "with", "and", "or",
    "how", "what", "when", "where", "which", "who", "why", "can", "could", "should", "would",
    "will", "there", "this", "that", "these", "those", "every", "each", "any", "some", "as",
    "after", "before", "than", "then", "get", "gets", "got", "acme",
})
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
REFUSAL = "I could not find this in the Acme documentation."
# what the model adds when it pads a fragment or gives "background": plausible, never in the docs
_INVENTED = (
    "This works the same way on every plan at no extra cost.",
    "Most customers finish this setup in under five minutes.",
    "The change usually takes effect within one hour.",
    "Our support team can also do this for you on request.",
    "You can undo it later from the same menu without losing data.",
    "It is fully compatible with single sign-on providers such as Okta.",
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def terms(text: str) -> set[str]:
    """Content words: lower case, without stop words."""
    return {w for w in words(text) if w not in _STOP}


def unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from ``parts`` (the demo's only randomness)."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def route(question: str) -> str:
    """The product a question is about, by keywords (the app's router)."""
    t = terms(question)
    if "vault" in t or "passkeys" in t:
        return "vault"
    if t & {"mobile", "phone", "android", "ios", "notifications"}:
        return "mobile"
    if t & {"invoice", "invoices", "billing", "payment"} or {"plan", "cost"} <= t:
        return "billing"
    return "cloud"


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_uri: str
    product: str
    text: str


def chunk_documents(docs_root: str, *, sentences: int | None = 2, words_per_chunk: int | None = None) -> list[Chunk]:
    """Split every document into chunks: ``sentences`` sentences with one of overlap (the
    index build's setting), or, with ``words_per_chunk``, fixed windows of that many words."""
    out = []
    for product, topics in DOCS.items():
        for topic, text in topics.items():
            uri = f"{docs_root}/{product}/{topic}.md"
            if words_per_chunk:
                tokens = text.split()
                pieces = [" ".join(tokens[i : i + words_per_chunk]) for i in range(0, len(tokens), words_per_chunk)]
            else:
                step = max(1, (sentences or 2) - 1)
                parts = _SENTENCE.split(text)
                pieces = [" ".join(parts[i : i + (sentences or 2)]) for i in range(0, max(1, len(parts) - step), step)]
            out += [Chunk(f"{product}/{topic}#{i}", uri, product, piece) for i, piece in enumerate(pieces)]
    return out


def retrieve(question: str, chunks: list[Chunk], k: int = 6, min_score: float = 0.25) -> list[tuple[Chunk, float]]:
    """Up to ``k`` chunks whose score is at least ``min_score``, best first. The score is the
    cosine similarity of the question's and the chunk's sets of content words."""
    wanted = terms(question)
    scored = []
    for chunk in chunks:
        held = terms(chunk.text)
        score = len(wanted & held) / math.sqrt(max(1, len(wanted)) * max(1, len(held)))
        if score >= min_score:
            scored.append((round(score, 4), chunk))
    scored.sort(key=lambda sc: (-sc[0], sc[1].chunk_id))
    return [(chunk, score) for score, chunk in scored[:k]]


def render_prompt(template: str, question: str, context: list[str]) -> str:
    return template.replace("{{context}}", "\n".join(f"- {c}" for c in context)).replace("{{question}}", question)


def generate(prompt: str, question: str, context: list[str]) -> str:
    """The templated "LLM": the context sentence sharing most content words with the question
    (at least two), a made-up completion when that sentence is a fragment, and a sentence of
    "background" when the prompt asks for it. Without a usable sentence it declines."""
    wanted = terms(question)
    sentences = [s.strip() for c in context for s in _SENTENCE.split(c) if s.strip()]
    best, overlap = None, 1
    for s in sentences:
        o = len(wanted & terms(s))
        if o > overlap:
            best, overlap = s, o
    pick = int(unit(question, "invent") * len(_INVENTED))
    if best is None:
        answer = REFUSAL
    else:
        answer = best if best.endswith((".", "!", "?")) else best + "."
        if len(words(best)) < 9:  # a fragment: the model completes it from its own knowledge
            answer += " " + _INVENTED[pick]
    if "background" in prompt and best is not None:
        answer += " " + _INVENTED[(pick + 1) % len(_INVENTED)]
    return answer


def faithfulness(answer: str, context: list[str]) -> float:
    """Share of the answer's sentences whose content words are (at least 80%) in the context;
    a refusal claims nothing and is faithful."""
    if answer == REFUSAL:
        return 1.0
    known = set().union(*(terms(c) for c in context)) if context else set()
    sentences = [s for s in _SENTENCE.split(answer) if terms(s)]
    if not sentences:
        return 1.0
    supported = sum(len(terms(s) & known) >= 0.8 * len(terms(s)) for s in sentences)
    return round(supported / len(sentences), 4)


def relevance(question: str, answer: str) -> float:
    """Share of the question's content words the answer addresses (0 for a refusal)."""
    if answer == REFUSAL:
        return 0.0
    wanted = terms(question)
    return round(len(wanted & terms(answer)) / max(1, len(wanted)), 4)
