"""A small corpus on the Great Depression and the New Deal, and a search backend over it with the knowledge
base's lookup by name (providers/search/naming.py): for the tests of the survey and the search node."""

from __future__ import annotations

from collections.abc import Sequence

from nexa_research.providers.search.in_memory import InMemorySearch
from nexa_research.providers.search.naming import naming_pattern
from nexa_research.state import Source

TOPIC = "The Great Depression and the New Deal"


def article(title: str, text: str) -> dict:
    return {"url": "https://en.wikipedia.org/wiki/" + title.replace(" ", "_"), "title": title, "text": text}


ARTICLES = [
    article("Great Depression", "The Great Depression was a severe global economic downturn from 1929 to 1939. The "
            "period was characterized by high rates of unemployment and poverty, drastic reductions in industrial "
            "production and international trade, and widespread bank and business failures around the world."),
    article("New Deal", "The New Deal was a 1933–1938 series of economic, social, and political reforms in response "
            "to the Great Depression in the United States under President Franklin D. Roosevelt."),
    article("Hoover Dam", "The Hoover Dam is a concrete arch-gravity dam in the Black Canyon of the Colorado River, on "
            "the boundary between the U.S. states of Nevada and Arizona. Constructed between 1931 and 1936, during "
            "the Great Depression, it was dedicated on September 30, 1935, by President Franklin D. Roosevelt."),
    article("Franklin D. Roosevelt", "Franklin Delano Roosevelt, also known as FDR, was the 32nd president of the "
            "United States, serving from 1933 until his death in 1945. His first two terms were centered on combating "
            "the Great Depression, while his third and fourth focused on US involvement in World War II."),
    article("Buddy Holly", "Charles Hardin Holley, known professionally by his stage name Buddy Holly, was an American "
            "singer, songwriter, and guitarist who was a central and pioneering figure of rock and roll. He was born "
            "to a musical family in Lubbock, Texas, during the Great Depression, and learned to play guitar."),
]


class NamingSearch(InMemorySearch):
    """The in-memory backend with the knowledge base's lookup by name."""

    def __init__(self, documents: Sequence[dict]) -> None:
        super().__init__(documents)
        self.documents = list(documents)

    async def search(self, query: str, k: int, filters: dict | None = None) -> list[Source]:
        found = await super().search(query, k, filters)
        return [s for s in found if s["title"] in {"Great Depression", "New Deal"}]  # the search by meaning

    async def naming(self, names: Sequence[str], limit: int) -> list[Source]:
        pattern = naming_pattern(names)
        return [s for s in self._sources if pattern is not None and pattern.search(s["text"].lower())
                and s["title"].lower() not in names][:limit]
