"""The one base model every configuration section derives from.

Strictness is the point: a typo in a site file must fail loudly at `sereno config check`, not be ignored
and leave a camera unrecorded or a retention period unenforced.
"""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
