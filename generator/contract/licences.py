"""The project's licences, named once: code under MIT, prose, figures and data under CC BY 4.0.

``LICENCES`` maps an SPDX id to its short name, the file in the repository and the canonical page. The
reproducibility page (its "how to cite" box reads CITATION.cff's ``license`` against it), the data
package (``datapackage.json``'s ``licenses``) and the site footer (site/mkdocs.yml ``copyright``, which
is YAML and cannot import this; tests/test_citation.py checks it) say the same.
"""

from __future__ import annotations

CODE = "MIT"
CONTENT = "CC-BY-4.0"
LICENCES = {
    CODE: {"name": "MIT", "title": "MIT License", "file": "LICENSE", "url": "https://opensource.org/license/mit"},
    CONTENT: {
        "name": "CC BY 4.0",
        "title": "Creative Commons Attribution 4.0 International",
        "file": "LICENSE-CONTENT",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    },
}
