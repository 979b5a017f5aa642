"""The places every figure rolls up through, declared once: sub-district → community →
grid → compound (docs/architecture.md, "Dimensions").

A ticket and a resident carry their own community and grid as loaded. Data keyed by
compound alone (votes, ballots, engagement, the ledger, participation) takes the
compound's community and grid from the mart `compound_community`
(pipelines/sql/marts/compound_community.sql): the center's `compounds` file when it lists
the compound, else the community most of its residents live in (ties to the first by
name). Every query that filters or splits such data by community joins that mart.
"""

from __future__ import annotations

from dataclasses import dataclass

# The mart that places each compound in one community and grid.
COMPOUND_PLACEMENT = "compound_community"


@dataclass(frozen=True)
class Dimension:
    """One level of the hierarchy.

    column: the column that holds it in loaded tables and marts (None: the sub-district,
        which is the whole warehouse). parent: the level it rolls up into.
    """

    id: str
    label_zh: str
    label_en: str
    parent: str | None
    column: str | None
    placed_by: str


DIMENSIONS: dict[str, Dimension] = {d.id: d for d in (
    Dimension("sub_district", "街道", "Sub-district", None, None,
              "the warehouse: one sub-district"),
    Dimension("community", "社区", "Community", "sub_district", "community",
              "as loaded on tickets and residents; for a compound, compound_community"),
    Dimension("grid", "网格", "Grid", "community", "grid",
              "as loaded on tickets and residents; for a compound, compound_community"),
    Dimension("compound", "小区", "Compound", "grid", "compound",
              "as loaded (tickets, residents, votes, engagement, ledger)"),
)}


def label(dimension: str) -> tuple[str, str]:
    """(中文, English) label of a dimension, as every page and export shows it."""
    d = DIMENSIONS[dimension]
    return d.label_zh, d.label_en


def hierarchy() -> list[Dimension]:
    """The dimensions from the top (no parent) down, one child per level.

    Raises:
        ValueError: the declarations are not a single chain.
    """
    roots = [d for d in DIMENSIONS.values() if d.parent is None]
    if len(roots) != 1:
        raise ValueError(f"dimensions need exactly one top level, found {len(roots)}")
    chain = roots
    while True:
        children = [d for d in DIMENSIONS.values() if d.parent == chain[-1].id]
        if len(children) > 1:
            raise ValueError(f"{chain[-1].id} has more than one child level")
        if not children:
            break
        chain.append(children[0])
    if len(chain) != len(DIMENSIONS):
        raise ValueError("some dimensions are not under the top level")
    return chain
