"""Page ``references``: the works this site builds on, as data.

:data:`REFERENCES` holds the bibliographic entries (authors, title, venue, year, pages, arXiv id, URL)
in citation order; the page renders each entry the same way in both languages and adds one sentence per
entry, from the strings catalog (``[references.role]``), on what it contributes to this site. Links are
shown as text (the site loads and links no external resources by design).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from generator.common.languages import LANGUAGES
from generator.render import strings
from generator.render.filters import Md, code


@dataclass(frozen=True)
class Reference:
    key: str
    authors: tuple[str, ...]
    title: str
    venue: str
    year: int
    pages: str = ""
    arxiv: str = ""
    url: str = ""
    note: str = ""  # e.g. publication details beyond the venue

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
        "glorot2010", ("Xavier Glorot", "Yoshua Bengio"),
        "Understanding the difficulty of training deep feedforward neural networks",
        "Proceedings of the Thirteenth International Conference on Artificial Intelligence and Statistics (AISTATS), "
        "PMLR 9", 2010, pages="249–256", url="https://proceedings.mlr.press/v9/glorot10a.html"),
    Reference(
        "he2015", ("Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"),
        "Delving Deep into Rectifiers: Surpassing Human-Level Performance on ImageNet Classification",
        "Proceedings of the IEEE International Conference on Computer Vision (ICCV)", 2015, pages="1026–1034",
        arxiv="1502.01852"),
    Reference(
        "ioffe2015", ("Sergey Ioffe", "Christian Szegedy"),
        "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift",
        "Proceedings of the 32nd International Conference on Machine Learning (ICML), PMLR 37", 2015,
        pages="448–456", arxiv="1502.03167"),
    Reference(
        "saxe2013", ("Andrew M. Saxe", "James L. McClelland", "Surya Ganguli"),
        "Exact solutions to the nonlinear dynamics of learning in deep linear neural networks",
        "arXiv preprint", 2013, arxiv="1312.6120",
        note="ICLR 2014"),
    Reference(
        "poole2016", ("Ben Poole", "Subhaneil Lahiri", "Maithra Raghu", "Jascha Sohl-Dickstein", "Surya Ganguli"),
        "Exponential expressivity in deep neural networks through transient chaos",
        "Advances in Neural Information Processing Systems 29 (NIPS)", 2016, pages="3360–3368", arxiv="1606.05340"),
    Reference(
        "schoenholz2017", ("Samuel S. Schoenholz", "Justin Gilmer", "Surya Ganguli", "Jascha Sohl-Dickstein"),
        "Deep Information Propagation",
        "International Conference on Learning Representations (ICLR)", 2017, arxiv="1611.01232"),
    Reference(
        "klambauer2017", ("Günter Klambauer", "Thomas Unterthiner", "Andreas Mayr", "Sepp Hochreiter"),
        "Self-Normalizing Neural Networks",
        "Advances in Neural Information Processing Systems 30 (NIPS)", 2017, pages="971–980", arxiv="1706.02515"),
    Reference(
        "cs231n", ("Fei-Fei Li", "Justin Johnson", "Serena Yeung"),
        "Lecture 6: Training Neural Networks, Part I",
        "CS231n: Convolutional Neural Networks for Visual Recognition, Stanford University", 2017,
        url="https://cs231n.github.io/neural-networks-2/",
        note="course notes: Andrej Karpathy, \"Neural Networks Part 2: Setting up the Data and the Loss\""),
    Reference(
        "seed", ("choidam",),
        "[Deep Learning] Training NeuralNetwork(2) : Weight Initialization, Batch Normalization",
        "개발아 담하자 (blog)", 2020, note="2020-05-26"),
)


def entry_markdown(r: Reference, lang: str) -> Md:
    """One bibliography line: authors. "Title". *Venue*, year, pages. (note) arXiv:id (`url`) `url`.

    Markdown (:class:`~generator.render.filters.Md`): the fields are plain text, escaped (a title such as
    "[Deep Learning] ..." stays text); addresses are code spans, shown as text, never links."""
    out = Md('{}. "{}". *{}*, {}').format(", ".join(r.authors), r.title, r.venue, r.year)
    if r.pages:
        out += ", " + strings.t(lang, "references.pages", pages=r.pages)
    out += Md(".")
    if r.note:
        out += Md(" ({})").format(r.note)
    if r.arxiv:
        out += Md(" arXiv:{} ({}).").format(r.arxiv, code(f"https://arxiv.org/abs/{r.arxiv}"))
    if r.url:
        out += Md(" {}").format(code(r.url))
    return out


def context(data) -> dict:
    entries = []
    for r in REFERENCES:
        d = asdict(r)
        d["authors_text"] = ", ".join(r.authors)
        d["cite"] = r.cite
        d["entry"] = {lang: entry_markdown(r, lang) for lang in LANGUAGES}
        entries.append(d)
    return {"entries": entries, "by_key": {e["key"]: e for e in entries}, "n": len(entries)}
