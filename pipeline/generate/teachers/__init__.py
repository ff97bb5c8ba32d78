from .base import Completion, Teacher, TeacherError

__all__ = ["Completion", "Teacher", "TeacherError"]
