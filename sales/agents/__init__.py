"""The sales app's agents (meetings, calls, proposals, payments), registered on import."""

from sales.agents import calls  # noqa: F401
from sales.agents import meeting  # noqa: F401
from sales.agents import payment  # noqa: F401
