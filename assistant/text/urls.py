"""URLs as article ids: one normalisation for ingest (the id a fetched page is stored under) and
for the evaluation (whether two ids name the same page)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that track a click and never select content (utm_* by prefix).
TRACKING_PREFIXES = ("utm_",)
TRACKING_PARAMS = frozenset(
    [
        "amp",
        "cid",
        "cmpid",
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "ocid",
        "ref",
        "ref_src",
        "referrer",
        "smid",
        "sr_share",
        "taid",
        "ito",
        "igshid",
        "outputtype",
        "_ga",
        "share",
        "s_cid",
        "xtor",
        "yclid",
    ]
)
# Leading host labels that name a front end of the same site, not a different site:
# www.cnn.com, edition.cnn.com (CNN's international edition), m./mobile. and amp. versions.
FRONT_END_LABELS = frozenset({"www", "www1", "www2", "m", "mobile", "amp", "edition"})
DEFAULT_DOCUMENTS = ("index.html", "index.htm", "index.php", "default.aspx", "default.asp")


def is_tracking(param: str) -> bool:
    key = param.lower()
    return key.startswith(TRACKING_PREFIXES) or key in TRACKING_PARAMS


def normalise_url(url: str) -> str:
    """The id a URL is stored under: lower-case scheme and host, no default port, no fragment,
    no tracking parameters; the path and the other parameters are kept as they are."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking(k)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def looks_like_url(text: str) -> bool:
    lowered = text.strip().lower()
    return lowered.startswith(("http://", "https://", "//", "www."))


def same_page_key(article_id: str) -> str:
    """A comparable form of an article id: two URLs of one page get the same key.

    On top of :func:`normalise_url`: no scheme, front-end host labels dropped
    (:data:`FRONT_END_LABELS`), a trailing default document (``index.html``) and trailing
    slashes dropped, parameters sorted. Ids that are not URLs are only stripped.

    >>> same_page_key("https://edition.cnn.com/2022/06/12/x/index.html?utm_source=tw#:~:text=a")
    'cnn.com/2022/06/12/x'
    """
    text = article_id.strip()
    if not looks_like_url(text):
        return text
    parts = urlsplit(normalise_url(text if "//" in text else f"//{text}"))
    labels = (parts.hostname or "").rstrip(".").split(".")
    while len(labels) > 2 and labels[0] in FRONT_END_LABELS:
        labels = labels[1:]
    host = ".".join(labels) + (f":{parts.port}" if parts.port else "")
    path, before = parts.path, None
    while path != before:  # ".../index.html/" and ".../x/index.html" alike: the key is stable
        before = path = path.rstrip("/")
        for doc in DEFAULT_DOCUMENTS:
            if path.lower().endswith("/" + doc):
                path = path[: -len(doc)]
                break
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    return f"{host}{path}" + (f"?{urlencode(query)}" if query else "")
