"""The shell's commands run the parts: their tests borrow the parts' fixtures."""

from tests.ingest.conftest import agent, tenant

__all__ = ["agent", "tenant"]
