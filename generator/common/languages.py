"""The site's languages, in order: the first is the default (served at the site root)."""

LANGUAGES = ("ko", "en")
