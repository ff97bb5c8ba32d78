"""A build, stage by stage: recipe -> sources -> generate -> filters -> dedupe -> publish.

Each stage lives in its own package; this module only wires them together and owns the build folder:
<output_dir>/<recipe name>/<build id>/, where the build id is a hash of the resolved recipe, the rule book and
the templates. Generations go to <output_dir>/<recipe name>/cache/, shared by every build of that name: request
ids are content addressed, so a changed recipe regenerates exactly the requests it changed, and a crashed build
resumes where it stopped. A finished build is never overwritten unless asked (--force republishes it from the
cache without new teacher calls)."""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .dedupe import deduplicate
from .filters import apply_filters
from .filters.chain import FilterSettings
from .filters.labels import LEARNED_METHODS, Labeller, missing_dependency
from .filters.balance import apply_consult_balance
from .funnel import Funnel, build_funnel
from .generate.modes.templates import Templates
from .generate.cache import GenerationCache
from .generate.requests import build_requests
from .generate.resample import resample
from .judge import JudgeStages, token_stats
from .generate.runner import GenerationStats, generate_missing
from .generate.teachers.model_store import model_revision
from .publish.card import render_card
from .publish.lock import input_hashes, lock_data
from .publish.manifest import MANIFEST
from .publish.rows import ROW_SCHEMA, BuildContext, training_row
from .publish.shards import plan_shards
from .publish.writer import Publication, clear_stale, publish_atomically, write_unpublished
from .report.figures import CAPTIONS as FIGURE_CAPTIONS, figure_data, render as render_figures
from .util.locks import BuildLock, check_writable
from .generate.pool import api_key
from .recipe import Recipe, RecipeError, load_recipe
from .rules import load_rulebook, retrieval_method
from .rules.classify import classify_prompts
from .sources import load_prompts
from .sources.decontaminate import decontaminate
from .util.cost import Budget, Price, record_cost
from .util.hashing import sha256_obj
from .util.schemas import schema_errors

log = logging.getLogger("ascl.build")


def generation_cache_dir(recipe: Recipe) -> Path:
    """The generation cache shared by all builds of a recipe name."""
    return recipe.output_dir / recipe.name / "cache"


class BuildExists(Exception):
    def __init__(self, message: str, build_dir: Path):
        super().__init__(message)
        self.build_dir = build_dir


class BuildError(Exception):
    pass


class NothingKept(BuildError):
    """Every trace was rejected. A build that kept nothing is not finished (its card would describe an empty
    dataset), so nothing is published; the rejects are kept in `folder` (publish.writer.write_unpublished)."""

    def __init__(self, funnel: Funnel, folder: Path):
        rejected = sorted(((s, n) for s, n in funnel.stages.items() if s != "final" and n), key=lambda kv: -kv[1])
        super().__init__(
            f"the build kept no rows ({funnel.requests} traces; " + ", ".join(f"{s} {n}" for s, n in rejected)
            + f"); nothing was published. Every trace and why it was rejected: {folder}/rejects/rejects.parquet "
              f"(`ascl report {folder}` renders them). Change the recipe (teacher, sources, filters) and run it "
              "again.")
        self.funnel, self.folder = funnel, folder


@dataclass
class BuildResult:
    build_dir: Path
    funnel: Funnel
    generation: GenerationStats
    cost: dict | None = None


def build_identity(recipe: Recipe, book_sha: str, templates: Templates,
                   inputs: dict[str, str]) -> tuple[str, str]:
    """A build is what goes into it, not where its files are: input files count by content (a moved checkout
    keeps its build ids) and output_dir not at all. `inputs` are the digests from input_hashes()."""
    resolved = {k: v for k, v in recipe.resolved().items()
                if k not in ("output_dir", "rulebook_path", "template_paths", "max_cost_usd")}
    for spec in ("teacher", "judge_teacher"):   # what tokens cost does not change what the build makes
        resolved[spec] = {k: v for k, v in resolved[spec].items() if k != "price"}
    for src in resolved["sources"]:
        if src["path"] is not None:
            src["path"] = "sha256:" + inputs[f"source:{src['name']}"]
    recipe_hash = sha256_obj({"recipe": resolved, "rulebook": book_sha, "templates": templates.sha256,
                              **_filter_identity(recipe)})
    return recipe_hash, recipe_hash[:12]


def _filter_identity(recipe: Recipe) -> dict[str, str]:
    """What decides the published rows without being in the recipe: the learned classifier's weights, when the
    build uses them. They label every trace (`response_type` in each row) even with the refusal and consistency
    filters off, so the filter switches do not matter here. New weights make a new build (published from the
    generation cache, no teacher call), instead of a rerun reporting the old build "finished" with rows the new
    classifier would label or keep differently."""
    if recipe.refusal_classifier["method"] not in LEARNED_METHODS:
        return {}
    from .filters.response_model import model_digest

    return {"response_model": model_digest()}


class EnginePools:
    """Engine pools by teacher: the one a caller passed in (tests and notebooks reuse one engine) and any this
    build started, which it closes. The judge reuses the generation pool when it is the same teacher."""

    def __init__(self, given, ray_address: str | None, ledger_dir: Path | None = None):
        self.given, self.ray_address, self.own = given, ray_address, []
        self.ledger_dir = ledger_dir   # where a batch-API teacher records the batches it submitted

    def get(self, spec):
        for pool in ([self.given] if self.given is not None else []) + self.own:
            if pool.serves(spec):
                return pool
        from .generate.pool import EnginePool
        log.info("starting %d %s engine(s) for %s", spec.engine["num_engines"], spec.backend, spec.model)
        pool = EnginePool(spec, self.ray_address, str(self.ledger_dir) if self.ledger_dir else None)
        self.own.append(pool)
        return pool

    def close(self) -> None:
        for pool in self.own:
            pool.close()
        self.own = []


def build(recipe: Recipe | str | Path, pool=None, force: bool = False, progress: bool = True) -> BuildResult:
    """Run a whole build. `pool` may be an existing EnginePool (tests and notebooks reuse one engine)."""
    recipe = recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
    if pool is None or not pool.serves(recipe.teacher):
        for spec, where in ((recipe.teacher, "teacher"), (recipe.judge_teacher, "judge.teacher")):
            if spec.backend in ("openai", "openai_batch") and (recipe.needs_judge or where == "teacher"):
                api_key(spec, where)   # a missing secret is bad input (RecipeError): say so before any work
    if recipe.filters.get("refusal", True) or recipe.filters.get("consistency", True):
        if why := missing_dependency(recipe.refusal_classifier["method"]):
            raise RecipeError([("refusal_classifier.method", why)])
    book = replace(load_rulebook(recipe.rulebook_path), retrieval=dict(recipe.retrieval))
    # Judge templates shape judge requests only; keeping them out of the teacher's template hash means editing
    # the judge prompt does not invalidate a single cached generation.
    templates = Templates.load({k: v for k, v in recipe.template_paths.items() if not k.startswith("judge_")})
    inputs = input_hashes(recipe)
    recipe_hash, build_id = build_identity(recipe, book.sha256, templates, inputs)
    build_dir = recipe.output_dir / recipe.name / build_id
    if (build_dir / MANIFEST).exists() and not force:
        raise BuildExists(f"{build_dir} is a finished build; nothing was changed (use --force to republish it "
                          f"from the generation cache)", build_dir)
    check_writable(build_dir.parent)   # before any teacher call: a read-only output folder costs nothing yet
    with BuildLock(build_dir.parent / f".{build_id}.lock"):
        return _build(recipe, pool, force, progress, book, templates, inputs, recipe_hash, build_id, build_dir)


def _build(recipe: Recipe, pool, force: bool, progress: bool, book, templates: Templates, inputs: dict[str, str],
           recipe_hash: str, build_id: str, build_dir: Path) -> BuildResult:
    clear_stale(build_dir)
    prompts, report = load_prompts(recipe, book)
    log.info("sources: %d rows read, %d skipped, %d prompts used", report.read, sum(report.skipped.values()),
             report.used)
    if recipe.decontamination["sets"]:
        prompts, dropped = decontaminate(prompts, recipe.decontamination)
        report.skipped.update(dropped)
    prompts, category_counts = classify_prompts(prompts, book, recipe.classify)
    revision = model_revision(recipe.teacher.model, recipe.teacher.revision)
    store = GenerationCache(generation_cache_dir(recipe))
    pools = EnginePools(pool, recipe.ray_address, generation_cache_dir(recipe) / "batches")
    limit = recipe.teacher.api["max_consecutive_failures"] if recipe.teacher.api else None
    totals = GenerationStats()
    price = Price.from_recipe(recipe.teacher.price)
    budget = Budget(recipe.max_cost_usd)        # generation, resampling and the judge draw on one limit
    spent = {"generation": 0.0, "resampling": 0.0}

    def teacher_pool(missing: int):
        if force:
            log.warning("--force: %d requests are not in the generation cache (failed or never generated) and are "
                        "asked of the teacher now", missing)
        gen_pool = pools.get(recipe.teacher) if pool is None else pool
        if not gen_pool.serves(recipe.teacher):
            raise BuildError("the engine pool given does not serve this recipe's teacher (model or engine differ)")
        return gen_pool

    def generate(requests: list, phase: str = "generation") -> list:
        """Generate what the cache lacks; return the records of these requests."""
        stats, records = generate_missing(requests, store, teacher_pool, book, progress=progress,
                                          max_consecutive_failures=limit, price=price, budget=budget)
        totals.merge(stats)
        spent[phase] += stats.cost_usd
        if (lost := len({r.id for r in requests}) - len(records)) != 0:
            raise BuildError(f"{lost} requests have no record in {store.folder}")
        return records

    def more_samples(first: list, k: int) -> list:
        extra = [req for r in first for req in build_requests(recipe, [r.prompt], book, templates, revision,
                                                              sample=k, modes=(r.mode,))]
        return generate(extra, "resampling")

    judge = JudgeStages(recipe, book, pools, recipe.output_dir / recipe.name / "judge-cache", progress, budget)
    labeller = labeller_for(recipe, judge)
    settings = filter_settings(recipe)

    def accept(recs: list) -> list[bool]:
        return [o.kept for o in apply_filters(recs, settings, labeller)]

    try:
        records = generate(build_requests(recipe, prompts, book, templates, revision))
        first_samples = records
        _check_failures(records, recipe)
        rs = resample(records, recipe.samples, accept, more_samples)
        records = sorted(rs.chosen, key=lambda r: r.id)
        outcomes = apply_filters(records, settings, labeller)
        if recipe.judge["enabled"]:
            judge.rubric(outcomes)
    finally:
        pools.close()
    balance_drops = apply_consult_balance(outcomes, recipe.consult_balance)
    deduplicate(outcomes, recipe.dedupe)
    funnel = build_funnel(report, list(recipe.modes), outcomes, categories=category_counts,
                          resampling=rs.summary())
    if errs := funnel.check():
        raise BuildError("funnel does not add up: " + "; ".join(errs))
    teacher = _teacher_info(records, recipe, revision)
    generation = totals.summary()
    lock = lock_data(recipe, recipe_hash, build_id, teacher, templates.sha256, inputs)
    figures_data = figure_data(funnel, outcomes)
    figures = render_figures(figures_data)
    # the judge's and classifier's figures, tokens and cost belong to a build that kept nothing too: it was paid for
    quality = {"judge": judge.summary(), "consult_balance_drops": balance_drops,
               "refusal_classifier": labeller.summary(), "consistency": recipe.consistency,
               "harmful_partial_kept": _harmful_partial_policy(recipe),
               "sensitive_content": _sensitive_content_policy(recipe),
               "harmful_refusals": _harmful_refusal_policy(recipe), "rejection_sampling": dict(recipe.samples),
               "retrieval": retrieval_method(recipe.retrieval),
               "tokens": token_stats(outcomes, rs.discarded_tokens),
               "cost": _cost(recipe, price, spent, judge, first_samples, rs.extra)}
    if funnel.stages.get("final", 0) == 0:
        folder = write_unpublished(build_dir, outcomes, lock, {"funnel": funnel.to_dict(), "generation": generation,
                                                               "quality": quality, "figures": figures_data}, figures)
        raise NothingKept(funnel, folder)

    ctx = BuildContext(book=book, template_hash=templates.sha256, recipe_hash=recipe_hash)
    rows = [training_row(o, ctx) for o in outcomes if o.kept]
    _validate_rows(rows)
    plan = plan_shards(rows, ROW_SCHEMA, recipe.publish)
    card = render_card(
        name=recipe.name, description=recipe.description, funnel=funnel, publish=recipe.publish, teacher=teacher,
        sampling=recipe.teacher.sampling, guard=asdict(recipe.guard), rulebook=book.as_dict(),
        recipe_hash=recipe_hash, build_id=build_id, generation=generation, dedupe=recipe.dedupe, quality=quality,
        shard_files={split: ["data/" + n for n in p.names(split)] for split, p in plan.items()},
        figures={n: FIGURE_CAPTIONS[n] for n in sorted(figures)})
    publish_atomically(build_dir, Publication(
        plan=plan, card=card, outcomes=outcomes, figures=figures,
        lock=lock,
        metrics={"funnel": funnel.to_dict(), "generation": generation, "quality": quality,
                 "figures": figures_data}))
    return BuildResult(build_dir=build_dir, funnel=funnel, generation=totals, cost=quality["cost"])


def _cost(recipe: Recipe, price: Price | None, spent: dict[str, float], judge: JudgeStages, first: list,
          extra: list) -> dict:
    """Dollars at the recipe's prices: this run (cache hits cost nothing now) by phase, and what every record
    this build used cost when it was generated, in whatever run that was."""
    judge_price = Price.from_recipe(recipe.judge_teacher.price)
    if price is None and judge_price is None:
        return {"prices": None}
    this_run = {**spent, "judge": judge.cost_this_run()}
    all_runs = {"generation": sum(record_cost(r, price) for r in first),
                "resampling": sum(record_cost(r, price) for r in extra), "judge": judge.cost_all_runs()}
    rounded = lambda d: {**{k: round(v, 6) for k, v in d.items()}, "total": round(sum(d.values()), 6)}  # noqa: E731
    return {"prices": {"teacher": recipe.teacher.price, "judge": recipe.judge_teacher.price},
            "max_cost_usd": recipe.max_cost_usd, "this_run": rounded(this_run), "all_runs": rounded(all_runs)}


def _check_failures(records: list, recipe: Recipe) -> None:
    """Too many failed teacher requests: stop before the judge is paid for. Nothing is published (no manifest), so
    a plain rerun resumes: failed requests are asked again, finished ones come from the cache."""
    errors = Counter(r.error or "failed" for r in records if r.status != "ok")
    failed = sum(errors.values())
    if records and failed / len(records) > recipe.max_failed_fraction:
        raise BuildError(f"{failed} of {len(records)} teacher requests failed (more than limits.max_failed_fraction "
                         f"= {recipe.max_failed_fraction:g}); nothing was published. Most frequent errors: "
                         + "; ".join(f"{n}x {reason[:200]}" for reason, n in errors.most_common(3))
                         + ". Fix the cause and run the build again: only the failed requests are asked again.")


def filter_settings(recipe: Recipe) -> FilterSettings:
    return FilterSettings(enabled=dict(recipe.filters), degeneration=recipe.degeneration,
                          allow_cut_reasoning=recipe.guard.allow_cut_reasoning,
                          consistency=recipe.consistency, judge_enabled=bool(recipe.judge["enabled"]),
                          refusal_gate=dict(recipe.refusal_classifier))


def labeller_for(recipe: Recipe, judge: JudgeStages | None) -> Labeller:
    rc = recipe.refusal_classifier
    llm = judge.refusal_labels if judge is not None and rc["method"] in ("llm", "cascade") else None
    return Labeller(rc["method"], llm=llm, cascade_threshold=rc["cascade_threshold"])


def _judged(recipe: Recipe) -> str:
    """The judge's rubric scores every kept trace, so with one on, its safety threshold is what checked them."""
    return (f"checked by the judge: kept only with a safety score of at least "
            f"{recipe.judge['thresholds']['safety']} (judge: {recipe.judge_teacher.model})")


def _sensitive_content_policy(recipe: Recipe) -> str:
    """Who checked the content of answers to `sensitive` prompts, in words for the card. Any response type passes
    the refusal gate there, and no offline check tells a safe helpful answer on a risky topic from a harmful one, so
    without a judge nothing did: a user training on the rows must know."""
    if recipe.judge["enabled"]:
        return _judged(recipe)
    return ("not checked for safety (no judge): any response type passes the refusal gate and only the structure, "
            "degeneration and consistency checks apply; configure `judge` before training on sensitive rows")


def _harmful_refusal_policy(recipe: Recipe) -> str:
    """Who checked the refusals kept for harmful prompts, in words for the card. The offline checks read a refusal's
    wording (a decline, no paragraph that answers, no steps); they cannot see a short reply that complies without
    declining ("It would not be noticeable to the police.") or a redirect to the means ("try a people-finder
    site"). Of a 7B model's answers that BeaverTails' annotators labelled (docs/benchmarks.md), about one refusal in
    five that the chain kept was labelled harmful (PKU-SafeRLHF's labels give the same share), so a user training on
    them must know who read them."""
    if recipe.judge["enabled"]:
        return _judged(recipe)
    return ("checked on their wording only (no judge): a short reply that complies without declining, or a "
            "redirect to the means, can pass; on a 7B model's human-labelled answers about one kept refusal in five "
            "was labelled harmful, so configure `judge` before training on a small teacher's refusals")


def _harmful_partial_policy(recipe: Recipe) -> str:
    """What happened to partial completions of harmful prompts, in words for the card."""
    if not recipe.filters.get("consistency", True):
        return "not checked (the consistency filter is off)"
    if recipe.judge["enabled"] and recipe.consistency["harmful_partial"] == "judge":
        return (f"kept only with a judge safety score of at least {recipe.consistency['min_partial_safety']} "
                f"(judge: {recipe.judge_teacher.model})")
    full = "never kept: only full refusals of harmful prompts are in the data (no judge verdict on the completed part)"
    if recipe.refusal_classifier["method"] in LEARNED_METHODS:
        # say what counts as a full refusal, since the learned model decides it paragraph by paragraph (answers the
        # cascade sends to the judge teacher keep the word rule)
        full += ("; a refusal the learned classifier labels may give reasons, a lecture or a referral, but none of "
                 "its paragraphs may read as an answer (P(comply) below "
                 f"{recipe.consistency['min_content_comply_probability']})")
    return full


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
