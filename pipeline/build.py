"""A build, stage by stage: recipe -> sources -> generate -> filters -> dedupe -> publish.

Each stage lives in its own package; this module only wires them together and owns the build folder:
<output_dir>/<recipe name>/<build id>/, where the build id is a hash of the resolved recipe, the rule book and
the templates. Generations go to <output_dir>/<recipe name>/cache/, shared by every build of that name: request
ids are content addressed, so a changed recipe regenerates exactly the requests it changed, and a crashed build
resumes where it stopped. A finished build is never overwritten unless asked (--force republishes it from the
cache without new teacher calls)."""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from .dedupe import exact_dedupe
from .filters import apply_filters
from .funnel import Funnel, build_funnel
from .generate.modes.templates import Templates
from .generate.raw_store import RawStore
from .generate.requests import build_requests
from .generate.runner import GenerationStats, run_generation
from .generate.teachers.model_store import model_revision
from .publish.card import render_card
from .publish.lock import input_hashes, lock_data
from .publish.manifest import MANIFEST
from .publish.rows import ROW_SCHEMA, BuildContext, training_row
from .publish.shards import shard_names
from .publish.writer import Publication, clear_published, publish
from .generate.pool import api_key
from .recipe import Recipe, load_recipe
from .rules import load_rulebook
from .sources import load_prompts
from .util.hashing import sha256_obj
from .util.schemas import schema_errors

log = logging.getLogger("ascl.build")


def cache_dir(recipe: Recipe) -> Path:
    """The generation cache shared by all builds of a recipe name."""
    return recipe.output_dir / recipe.name / "cache"


class BuildExists(Exception):
    pass


class BuildError(Exception):
    pass


@dataclass
class BuildResult:
    build_dir: Path
    funnel: Funnel
    generation: GenerationStats


def build_identity(recipe: Recipe, book_sha: str, templates: Templates,
                   inputs: dict[str, str]) -> tuple[str, str]:
    """A build is what goes into it, not where its files are: input files count by content (a moved checkout
    keeps its build ids) and output_dir not at all. `inputs` are the digests from input_hashes()."""
    resolved = {k: v for k, v in recipe.resolved().items()
                if k not in ("output_dir", "rulebook_path", "template_paths")}
    for src in resolved["sources"]:
        if src["path"] is not None:
            src["path"] = "sha256:" + inputs[f"source:{src['name']}"]
    recipe_hash = sha256_obj({"recipe": resolved, "rulebook": book_sha, "templates": templates.sha256})
    return recipe_hash, recipe_hash[:12]


def build(recipe: Recipe | str | Path, pool=None, force: bool = False, progress: bool = True) -> BuildResult:
    """Run a whole build. `pool` may be an existing EnginePool (tests and notebooks reuse one engine)."""
    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    if recipe.teacher.backend == "openai" and pool is None:
        api_key(recipe.teacher)   # a missing secret is bad input (RecipeError): say so before any work starts
    book = load_rulebook(recipe.rulebook_path)
    templates = Templates.load(recipe.template_paths)
    inputs = input_hashes(recipe)
    recipe_hash, build_id = build_identity(recipe, book.sha256, templates, inputs)
    build_dir = recipe.output_dir / recipe.name / build_id
    if (build_dir / MANIFEST).exists():
        if not force:
            raise BuildExists(f"{build_dir} is a finished build; nothing was changed (use --force to republish it "
                              f"from the generation cache)")
        clear_published(build_dir)

    prompts, report = load_prompts(recipe, book)
    log.info("sources: %d rows read, %d skipped, %d prompts used", report.read, sum(report.skipped.values()),
             report.used)
    revision = model_revision(recipe.teacher.model, recipe.teacher.revision)
    requests = build_requests(recipe, prompts, book, templates, revision)
    store = RawStore(cache_dir(recipe))
    pending = len({r.id for r in requests} - store.done_ids())
    own_pool = None
    if pending and pool is None:
        from .generate.pool import EnginePool
        log.info("starting %d %s engine(s) for %s", recipe.teacher.engine["num_engines"], recipe.teacher.backend,
                 recipe.teacher.model)
        pool = own_pool = EnginePool(recipe.teacher, recipe.ray_address)
    if pending and not pool.serves(recipe.teacher):
        raise BuildError("the engine pool given does not serve this recipe's teacher (model or engine differ)")
    limit = recipe.teacher.api["max_consecutive_failures"] if recipe.teacher.api else None
    try:
        stats = run_generation(pool, requests, book, store, progress=progress, max_consecutive_failures=limit) \
            if pending else GenerationStats(requested=len(requests), cached=len(requests))
    finally:
        if own_pool is not None:
            own_pool.close()

    wanted = {r.id for r in requests}
    records = [r for r in store.load() if r.id in wanted]
    if len(records) != len(wanted):
        raise BuildError(f"{len(wanted) - len(records)} requests have no record in {store.folder}")
    outcomes = apply_filters(records, recipe.filters)
    kept = [o for o in outcomes if o.kept]
    exact = recipe.dedupe["exact"]
    dd = exact_dedupe([o.record for o in kept], key=exact["key"], enabled=exact["enabled"])
    funnel = build_funnel(report, list(recipe.modes), outcomes, dd.duplicate_of)
    if errs := funnel.check():
        raise BuildError("funnel does not add up: " + "; ".join(errs))

    ctx = BuildContext(book=book, template_hash=templates.sha256, recipe_hash=recipe_hash)
    rows = [training_row(o, dd.cluster[o.record.id], ctx) for o in kept if o.record.id not in dd.duplicate_of]
    _validate_rows(rows)
    rejects = [(o, o.stage, o.reason, None) for o in outcomes if not o.kept]
    rejects += [(o, "exact_duplicate", "same_normalised_text", dd.duplicate_of[o.record.id])
                for o in kept if o.record.id in dd.duplicate_of]
    teacher = _teacher_info(records, recipe, revision)
    generation = stats.summary()
    card = render_card(
        name=recipe.name, description=recipe.description, funnel=funnel, publish=recipe.publish, teacher=teacher,
        sampling=recipe.teacher.sampling, guard=asdict(recipe.guard), rulebook=book.as_dict(),
        recipe_hash=recipe_hash, build_id=build_id, generation=generation, dedupe=recipe.dedupe,
        shard_files=["data/" + n for n in shard_names(len(rows), recipe.publish["num_shards"])])
    publish(build_dir, Publication(
        rows=rows, rejects=rejects, row_schema=ROW_SCHEMA, num_shards=recipe.publish["num_shards"], card=card,
        lock=lock_data(recipe, recipe_hash, build_id, teacher, templates.sha256, inputs),
        metrics={"funnel": funnel.to_dict(), "generation": generation}))
    return BuildResult(build_dir=build_dir, funnel=funnel, generation=stats)


def _teacher_info(records, recipe: Recipe, revision: str | None) -> dict:
    for r in records:
        if r.engine:
            return dict(r.engine)
    return {"model": recipe.teacher.model, "revision": revision, "engine": recipe.teacher.backend,
            "engine_version": "unknown"}


def _validate_rows(rows: list[dict]) -> None:
    """Stage boundary: every training row must match schemas/record.schema.json before it is written."""
    for row in rows:
        if errs := schema_errors(row, "record.schema.json"):
            raise BuildError(f"row {row['id']} breaks the record schema: {errs[:3]}")
