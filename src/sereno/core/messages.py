"""Messages between processes: named, versioned pydantic models, never tuples.

A message's subject (`sereno.<name>.v<version>`) is its address on the bus, so a consumer that only
understands version 1 never receives version 2 by accident.
"""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def subject(cls) -> str:
        return f"sereno.{cls.name}.v{cls.version}"
