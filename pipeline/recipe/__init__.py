from .model import Recipe, SourceSpec, TeacherSpec, GuardSpec
from .load import RecipeError, load_recipe, validate_recipe_file

__all__ = ["Recipe", "SourceSpec", "TeacherSpec", "GuardSpec", "RecipeError", "load_recipe", "validate_recipe_file"]
