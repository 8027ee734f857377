"""Operations console for learning: errors, rules (with their evidence), applications, feedback, FAQ.

Actions and saves call ``learning.services``; nothing here decides anything.
"""

from learning.admin import errors, outcomes, rules

__all__ = ["errors", "outcomes", "rules"]
