"""Page ``references``: the works this site builds on, as data.

:data:`REFERENCES` holds the bibliographic entries (authors, title, venue, year, pages, arXiv id, DOI,
URL): every work cited in the text of any page, then the ones a reader needs next. The page renders each
entry the same way in both languages, with a clickable DOI / arXiv / proceedings link (plain ``<a>``
links: the site still loads nothing from other hosts), and adds one sentence per entry from the strings
catalog (``[references.role]``) on what it contributes to this site. :data:`NO_LINK` names the entries
that may lack a link and why (tests/test_references.py checks both lists against the templates); such an
entry then says "URL not recorded" (``references.no_url``) instead of a link.

The source note (key ``source_note``, the blog post this site started from) has no address recorded in
the repository and none is invented: its URL is ``$INITLAB_SOURCE_NOTE_URL`` when set (an https
address; it enters the site stamp, generator/pipeline/stamp.py), read by :func:`references` when the
page context is built.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace

from generator.common.languages import LANGUAGES
from generator.engine.digits import LICENCE as DATA_LICENCE
from generator.render import strings
from generator.render.filters import Md, code, link


@dataclass(frozen=True)
class Reference:
    key: str
    authors: tuple[str, ...]
    title: str
    venue: str
    year: int
    pages: str = ""
    arxiv: str = ""
    doi: str = ""
    url: str = ""
    note: str = ""  # e.g. publication details beyond the venue
    kind: str = ""  # "blog": the venue is a blog's name, shown as 'blog 「name」' in each language

    @property
    def cite(self) -> str:
        """Short in-text form: "Glorot & Bengio (2010)", "He et al. (2015)"."""
        last = [a.split()[-1] for a in self.authors]
        if len(last) == 1:
            who = last[0]
        elif len(last) == 2:
            who = f"{last[0]} & {last[1]}"
        else:
            who = f"{last[0]} et al."
        return f"{who} ({self.year})"


REFERENCES: tuple[Reference, ...] = (
    Reference(
        "glorot2010",
        ("Xavier Glorot", "Yoshua Bengio"),
        "Understanding the difficulty of training deep feedforward neural networks",
        "Proceedings of the Thirteenth International Conference on Artificial Intelligence and Statistics (AISTATS), "
        "PMLR 9",
        2010,
        pages="249–256",
        url="https://proceedings.mlr.press/v9/glorot10a.html",
    ),
    Reference(
        "he2015",
        ("Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"),
        "Delving Deep into Rectifiers: Surpassing Human-Level Performance on ImageNet Classification",
        "Proceedings of the IEEE International Conference on Computer Vision (ICCV)",
        2015,
        pages="1026–1034",
        arxiv="1502.01852",
    ),
    Reference(
        "ioffe2015",
        ("Sergey Ioffe", "Christian Szegedy"),
        "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift",
        "Proceedings of the 32nd International Conference on Machine Learning (ICML), PMLR 37",
        2015,
        pages="448–456",
        arxiv="1502.03167",
    ),
    Reference(
        "saxe2013",
        ("Andrew M. Saxe", "James L. McClelland", "Surya Ganguli"),
        "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks",
        "arXiv preprint",
        2013,
        arxiv="1312.6120",
        note="ICLR 2014",
    ),
    Reference(
        "poole2016",
        ("Ben Poole", "Subhaneil Lahiri", "Maithra Raghu", "Jascha Sohl-Dickstein", "Surya Ganguli"),
        "Exponential expressivity in deep neural networks through transient chaos",
        "Advances in Neural Information Processing Systems 29 (NIPS)",
        2016,
        pages="3360–3368",
        arxiv="1606.05340",
    ),
    Reference(
        "schoenholz2017",
        ("Samuel S. Schoenholz", "Justin Gilmer", "Surya Ganguli", "Jascha Sohl-Dickstein"),
        "Deep Information Propagation",
        "International Conference on Learning Representations (ICLR)",
        2017,
        arxiv="1611.01232",
    ),
    Reference(
        "klambauer2017",
        ("Günter Klambauer", "Thomas Unterthiner", "Andreas Mayr", "Sepp Hochreiter"),
        "Self-Normalizing Neural Networks",
        "Advances in Neural Information Processing Systems 30 (NIPS)",
        2017,
        pages="971–980",
        arxiv="1706.02515",
    ),
    Reference(
        "lecun1998",
        ("Yann LeCun", "Léon Bottou", "Genevieve B. Orr", "Klaus-Robert Müller"),
        "Efficient BackProp",
        "Neural Networks: Tricks of the Trade, Lecture Notes in Computer Science 1524, Springer",
        1998,
        pages="9–50",
        doi="10.1007/3-540-49430-8_2",
    ),
    Reference(
        "yang2019",
        ("Greg Yang", "Jeffrey Pennington", "Vinay Rao", "Jascha Sohl-Dickstein", "Samuel S. Schoenholz"),
        "A Mean Field Theory of Batch Normalization",
        "International Conference on Learning Representations (ICLR)",
        2019,
        arxiv="1902.08129",
    ),
    Reference(
        "santurkar2018",
        ("Shibani Santurkar", "Dimitris Tsipras", "Andrew Ilyas", "Aleksander Madry"),
        "How Does Batch Normalization Help Optimization?",
        "Advances in Neural Information Processing Systems 31 (NeurIPS)",
        2018,
        pages="2483–2493",
        arxiv="1805.11604",
    ),
    Reference(
        "bjorck2018",
        ("Johan Bjorck", "Carla Gomes", "Bart Selman", "Kilian Q. Weinberger"),
        "Understanding Batch Normalization",
        "Advances in Neural Information Processing Systems 31 (NeurIPS)",
        2018,
        pages="7694–7705",
        arxiv="1806.02375",
    ),
    Reference(
        "luo2019",
        ("Ping Luo", "Xinjiang Wang", "Wenqi Shao", "Zhanglin Peng"),
        "Towards Understanding Regularization in Batch Normalization",
        "International Conference on Learning Representations (ICLR)",
        2019,
        arxiv="1809.00846",
    ),
    Reference(
        "hanin2018",
        ("Boris Hanin", "David Rolnick"),
        "How to Start Training: The Effect of Initialization and Architecture",
        "Advances in Neural Information Processing Systems 31 (NeurIPS)",
        2018,
        pages="571–581",
        arxiv="1803.01719",
    ),
    Reference(
        "pennington2017",
        ("Jeffrey Pennington", "Samuel S. Schoenholz", "Surya Ganguli"),
        "Resurrecting the sigmoid in deep learning through dynamical isometry: theory and practice",
        "Advances in Neural Information Processing Systems 30 (NIPS)",
        2017,
        pages="4785–4795",
        arxiv="1711.04735",
    ),
    Reference(
        "hendrycks2016",
        ("Dan Hendrycks", "Kevin Gimpel"),
        "Gaussian Error Linear Units (GELUs)",
        "arXiv preprint",
        2016,
        arxiv="1606.08415",
    ),
    Reference(
        "alpaydin1998",
        ("Ethem Alpaydin", "Cenk Kaynak"),
        "Optical Recognition of Handwritten Digits",
        "UCI Machine Learning Repository",
        1998,
        doi="10.24432/C50P49",
        note=f"data set, {DATA_LICENCE}",
    ),
    Reference(
        "cs231n",
        ("Fei-Fei Li", "Justin Johnson", "Serena Yeung"),
        "Lecture 6: Training Neural Networks, Part I",
        "CS231n: Convolutional Neural Networks for Visual Recognition, Stanford University",
        2017,
        url="https://cs231n.github.io/neural-networks-2/",
        note='course notes: Andrej Karpathy, "Neural Networks Part 2: Setting up the Data and the Loss"',
    ),
    Reference(
        "seed",
        ("choidam",),
        "[Deep Learning] Training NeuralNetwork(2) : Weight Initialization, Batch Normalization",
        "개발아 담하자",
        2020,
        note="2020-05-26",
        kind="blog",
    ),
)

# Entries that may have no DOI / arXiv / proceedings link, and why; without one the entry says
# "URL not recorded".
NO_LINK = {"seed": "the blog post's address is not recorded in this repository ($INITLAB_SOURCE_NOTE_URL)"}
SOURCE_NOTE_URL_ENV = "INITLAB_SOURCE_NOTE_URL"


def references() -> tuple[Reference, ...]:
    """:data:`REFERENCES`, the source note with ``$INITLAB_SOURCE_NOTE_URL`` as its URL when set."""
    url = os.environ.get(SOURCE_NOTE_URL_ENV, "").strip()
    if url and not url.startswith("https://"):
        raise ValueError(f"{SOURCE_NOTE_URL_ENV} must be an https address, got {url[:80]!r}")
    return tuple(replace(r, url=url) if r.key == "seed" and url else r for r in REFERENCES)


def entry_markdown(r: Reference, lang: str) -> Md:
    """One bibliography line: authors. "Title". *Venue*, year, pages. (note) then the links: DOI, arXiv,
    URL, each a clickable Markdown link (:func:`~generator.render.filters.link` checks the address; an address
    that is not https stays text).

    Markdown (:class:`~generator.render.filters.Md`): the fields are plain text, escaped (a title such as
    "[Deep Learning] ..." stays text)."""
    venue = strings.t(lang, "references.blog", name=r.venue) if r.kind == "blog" else r.venue
    out = Md('{}. "{}". *{}*, {}').format(", ".join(r.authors), r.title, venue, r.year)
    if r.pages:
        out += ", " + strings.t(lang, "references.pages", pages=r.pages)
    out += Md(".")
    if r.note:
        out += Md(" ({})").format(r.note)
    for label, url in links_of(r):
        # only https addresses become links; anything else stays inert text (a code span)
        out += Md(" ") + (link(label, url) if url.startswith("https://") else code(url))
    if not links_of(r):
        out += Md(" ") + Md("{}.").format(strings.t(lang, "references.no_url"))
    return out


def links_of(r: Reference) -> list[tuple[str, str]]:
    """(label, address) of the entry's links: DOI, arXiv, then its own URL."""
    out = []
    if r.doi:
        out.append((f"doi:{r.doi}", f"https://doi.org/{r.doi}"))
    if r.arxiv:
        out.append((f"arXiv:{r.arxiv}", f"https://arxiv.org/abs/{r.arxiv}"))
    if r.url:
        out.append((r.url, r.url))
    return out


def context(data) -> dict:
    entries = []
    refs = references()
    for r in refs:
        d = asdict(r)
        d["authors_text"] = ", ".join(r.authors)
        d["cite"] = r.cite
        d["entry"] = {lang: entry_markdown(r, lang) for lang in LANGUAGES}
        entries.append(d)
    return {
        "entries": entries,
        "by_key": {e["key"]: e for e in entries},
        "n": len(entries),
        "no_link": [r.cite for r in refs if not links_of(r)],
    }
