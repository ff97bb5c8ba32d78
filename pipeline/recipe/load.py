"""Load and check a recipe before any work starts: JSON Schema first, then the checks a schema cannot express."""
from __future__ import annotations

from copy import deepcopy
from pathlib import Path
from typing import Any

import yaml

from ..resources import prompts_dir
from ..rules.retrieval import DEFAULT_RETRIEVAL
from ..util.compressed import inner_suffix, is_gzip
from ..util.schemas import schema_errors
from ..util.yamlio import load_yaml
from .model import (DEFAULT_API, DEFAULT_CLASSIFY, DEFAULT_CONSISTENCY, DEFAULT_DECONTAMINATION, DEFAULT_DEGENERATION,
                    DEFAULT_ENGINE, DEFAULT_EXACT, DEFAULT_JUDGE, DEFAULT_NEAR, DEFAULT_PUBLISH,
                    DEFAULT_REFUSAL_CLASSIFIER, DEFAULT_SAMPLING, DEFAULT_SEMANTIC, FILTER_NAMES, GuardSpec, Recipe,
                    SourceSpec, TeacherSpec)

LOCAL_FORMATS = {".jsonl": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}


def local_format(path: Path) -> str | None:
    """The format a local file's name says: rows.jsonl and rows.jsonl.gz are both jsonl (gzip-compressed text is
    read as it is); None for any other name, a .parquet.gz among them (a Parquet file compresses itself)."""
    suffix = inner_suffix(path)
    return None if is_gzip(path) and suffix == ".parquet" else LOCAL_FORMATS.get(suffix)


class RecipeError(Exception):
    """A recipe problem; `errors` holds (field path, message) pairs."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("\n".join(f"{p}: {m}" for p, m in errors))


def _read_yaml(path: Path) -> Any:
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecipeError([("(file)", f"recipe not found: {path}")])
    except IsADirectoryError:
        raise RecipeError([("(file)", f"{path} is a folder, not a recipe file")])
    except OSError as e:
        raise RecipeError([("(file)", f"cannot read {path}: {e.strerror or e}")])
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise RecipeError([("(file)", f"not valid YAML: {e}")])


def load_recipe(path: str | Path) -> Recipe:
    """Parse, validate and resolve a recipe. Raises RecipeError naming every bad field."""
    path = Path(path).resolve()
    data = _read_yaml(path)
    from .from_lock import is_lock, recipe_from_lock
    if is_lock(data):   # a build's recipe.lock.yaml: rebuild exactly that build
        return recipe_from_lock(path, data)
    errors = _without_secrets(schema_errors(data, "recipe.schema.json"), data)
    if isinstance(data, dict) and isinstance(data.get("seed"), float):
        errors.append(("seed", f"must be a whole number written without a decimal point (got {data['seed']!r})"))
    if errors:
        raise RecipeError(errors)
    base = path.parent
    errors = []

    def rel(p: str) -> Path:
        q = Path(p).expanduser()
        return q if q.is_absolute() else (base / q).resolve()

    sources = []
    names = set()
    for i, s in enumerate(data["sources"]):
        if s["name"] in names:
            errors.append((f"sources[{i}].name", f"duplicate source name {s['name']!r}"))
        names.add(s["name"])
        src_path = rel(s["path"]) if "path" in s else None
        fmt = s.get("format")
        if src_path is not None:
            if not src_path.is_file():
                errors.append((f"sources[{i}].path", f"file not found: {src_path}"))
            fmt = fmt or local_format(src_path)
            if fmt is None:
                errors.append((f"sources[{i}].format", f"cannot infer the format of {src_path.name}; set format"))
        if s["kind"] == "per_row" and "kind" not in s.get("columns", {}):
            errors.append((f"sources[{i}].columns.kind", "kind: per_row needs a kind column"))
        sources.append(SourceSpec(name=s["name"], kind=s["kind"], path=src_path, dataset=s.get("dataset"),
                                  config=s.get("config"), revision=s.get("revision"), format=fmt,
                                  split=s.get("split", "train"), columns=dict(s.get("columns", {})),
                                  category=s.get("category"), sample=s.get("sample")))

    rulebook_path = rel(data["rulebook"])
    if not rulebook_path.is_file():
        errors.append(("rulebook", f"file not found: {rulebook_path}"))
    else:
        from ..rules import RuleBookError, load_rulebook
        try:
            book = load_rulebook(rulebook_path)
            for i, s in enumerate(sources):
                if s.category and s.category not in book.categories:
                    errors.append((f"sources[{i}].category", f"unknown rule-book category {s.category!r}"))
        except RuleBookError as e:
            errors.extend((f"rulebook{'.' + p if p != '(root)' else ''}", m) for p, m in e.errors)

    tpl = prompts_dir() / "templates"
    templates = {"explicit": tpl / "explicit_system.txt",
                 "adaptive": tpl / "adaptive_system.txt",
                 "answer_format_reasoning": tpl / "answer_format_reasoning.txt",
                 "judge_rubric": tpl / "judge_rubric.txt",
                 "judge_refusal": tpl / "judge_refusal.txt"}
    for k, v in data.get("templates", {}).items():
        templates[k] = rel(v)
    for k, v in templates.items():
        if not v.is_file():
            errors.append((f"templates.{k}", f"file not found: {v}"))

    g = data.get("format_guard", {})
    guard = GuardSpec(**{**g, "refusal_openers": tuple(g.get("refusal_openers", ()))})   # defaults: GuardSpec
    if guard.min_reasoning_chars > guard.max_reasoning_chars:
        errors.append(("format_guard.min_reasoning_chars", "must not exceed max_reasoning_chars"))

    teacher = _teacher(data["teacher"], "teacher", errors)
    judge = {**DEFAULT_JUDGE, **{k: v for k, v in data.get("judge", {}).items() if k != "teacher"}}
    judge["thresholds"] = {**DEFAULT_JUDGE["thresholds"], **data.get("judge", {}).get("thresholds", {})}
    judge_teacher = _teacher(data["judge"]["teacher"], "judge.teacher", errors) \
        if "teacher" in data.get("judge", {}) else teacher
    near = {**DEFAULT_NEAR, **data.get("dedupe", {}).get("near", {})}
    if near["bands"] * near["rows"] > near["num_perm"]:
        errors.append(("dedupe.near.bands", f"bands x rows = {near['bands'] * near['rows']} exceeds num_perm "
                                            f"{near['num_perm']}"))
    semantic = {**DEFAULT_SEMANTIC, **data.get("dedupe", {}).get("semantic", {})}
    decon = {**deepcopy(DEFAULT_DECONTAMINATION), **data.get("decontamination", {})}
    for i, d in enumerate(decon["sets"]):
        if ("path" in d) == ("dataset" in d):
            errors.append((f"decontamination.sets[{i}]", "give exactly one of path or dataset"))
        elif "path" in d:
            d["path"] = str(rel(d["path"]))
            if not Path(d["path"]).is_file():
                errors.append((f"decontamination.sets[{i}].path", f"file not found: {d['path']}"))
    balance = data.get("adaptive", {}).get("consult_balance", {})
    for kind, floor in balance.get("min_rate", {}).items():
        if floor > balance.get("max_rate", {}).get(kind, 1.0):
            errors.append((f"adaptive.consult_balance.min_rate.{kind}", "must not exceed max_rate for that kind"))
    if "samples" in data.get("reasoning", {}) and "reasoning" in data.get("rejection_sampling", {}):
        errors.append(("rejection_sampling.reasoning", "also given as reasoning.samples; keep one of the two"))
    if "max_cost_usd" in data.get("limits", {}):
        for spec, where in ((teacher, "teacher"), (judge_teacher, "judge.teacher")):
            if spec.price is None and (where == "teacher" or "teacher" in data.get("judge", {})):
                errors.append(("limits.max_cost_usd", f"needs {where}.price: without prices nothing can be counted"))
    filters = {name: True for name in FILTER_NAMES} | data.get("filters", {})
    other = [lang for lang in data.get("publish", {}).get("language", DEFAULT_PUBLISH["language"]) if lang != "en"]
    if other and filters["language"]:
        # the language filter would reject every row of the declared language: fail now, not after generation
        errors.append(("publish.language", f"{', '.join(other)}: the checks and the response-type label read English "
                                           "only, and filters.language rejects other languages; set filters.language: "
                                           "false to build without that check"))
    if errors:
        raise RecipeError(errors)

    # No output_dir: ./shards of the folder the command runs in (never the install location, which may be a
    # read-only site-packages). A relative output_dir is read against the recipe's folder, like every other path.
    out = (base / data["output_dir"]).resolve() if "output_dir" in data else (Path.cwd() / "shards").resolve()
    return Recipe(
        path=path, as_written=data, name=data["name"], seed=data["seed"], output_dir=out, sources=tuple(sources),
        modes=tuple(data["modes"]), rulebook_path=rulebook_path, template_paths=templates,
        teacher=teacher,
        guard=guard, **{k: v for k, v in data.get("adaptive", {}).items() if k == "max_tool_calls"},
        **data.get("limits", {}),   # max_prompt_chars, max_failed_fraction, max_cost_usd; defaults: Recipe
        filters=filters,
        dedupe={"exact": {**DEFAULT_EXACT, **data.get("dedupe", {}).get("exact", {})},
                "near": near, "semantic": semantic},
        decontamination=decon,
        publish={**deepcopy(DEFAULT_PUBLISH), **data.get("publish", {})},
        description=data.get("description", ""),
        ray_address=data.get("ray", {}).get("address"),
        retrieval={**DEFAULT_RETRIEVAL, **data.get("retrieval", {})},
        classify={**deepcopy(DEFAULT_CLASSIFY), **data.get("classify", {})},
        consult_balance={"max_rate": dict(balance.get("max_rate", {})), "min_rate": dict(balance.get("min_rate", {}))},
        samples=_samples(data),
        refusal_classifier=_refusal_classifier(data.get("refusal_classifier", {})),
        degeneration=_degeneration(data.get("degeneration", {})),
        consistency={**DEFAULT_CONSISTENCY, **data.get("consistency", {})},
        judge=judge, judge_teacher=judge_teacher,
    )


def _samples(data: dict[str, Any]) -> dict[str, int]:
    """`rejection_sampling: {kind: n}`; the older `reasoning: {samples: n}` is the same as {reasoning: n}."""
    out = {"reasoning": data.get("reasoning", {}).get("samples", 1)}
    out.update(data.get("rejection_sampling", {}))
    return {k: v for k, v in sorted(out.items()) if v > 1}


def _refusal_classifier(value: str | dict[str, Any]) -> dict[str, Any]:
    """The short form (`refusal_classifier: cascade`) and the long form resolve to one dict."""
    return {**DEFAULT_REFUSAL_CLASSIFIER, **({"method": value} if isinstance(value, str) else value)}


def _degeneration(value: dict[str, Any]) -> dict[str, Any]:
    out = {**DEFAULT_DEGENERATION, **value}
    for key in ("top_ngram_max_frac", "dup_ngram_max_frac"):   # YAML keys may be ints or strings: store ints
        out[key] = {int(n): v for n, v in {**DEFAULT_DEGENERATION[key], **value.get(key, {})}.items()}
    return out


def _teacher(t: dict[str, Any], where: str, errors: list[tuple[str, str]]) -> TeacherSpec:
    engine = {**DEFAULT_ENGINE, **t.get("engine", {})}
    sampling = {**DEFAULT_SAMPLING, **t.get("sampling", {})}
    if sampling["max_tokens"] >= engine["max_model_len"]:
        errors.append((f"{where}.sampling.max_tokens", "must be below the engine's max_model_len"))
    api = {**DEFAULT_API, **t["api"]} if "api" in t else None
    return TeacherSpec(backend=t["backend"], model=t["model"], revision=t.get("revision"), engine=engine,
                       sampling=sampling, api=api, price=dict(t["price"]) if "price" in t else None)


def _without_secrets(errors: list[tuple[str, str]], data: Any) -> list[tuple[str, str]]:
    """Schema messages quote the offending value; for api_key_env and base_url that value may be a credential.
    Replace those messages with ours, which never quote it, and check both teachers' api blocks even when the
    schema already failed (the secret must not be printed either way)."""
    safe = [(f, m) for f, m in errors if not f.endswith((".api_key_env", ".base_url"))]
    if not isinstance(data, dict):
        return safe
    for where, t in (("teacher", data.get("teacher")), ("judge.teacher", (data.get("judge") or {}).get("teacher"))):
        api = t.get("api") if isinstance(t, dict) else None
        if isinstance(api, dict):
            found: list[tuple[str, str]] = []
            _check_api_secrets(api, where, found)
            safe += found
            if any(f == f"{where}.api.api_key_env" for f, _ in errors) and not any(
                    f == f"{where}.api.api_key_env" for f, _ in found):
                safe.append((f"{where}.api.api_key_env", "must be the name of an environment variable "
                                                         "(letters, digits, underscores)"))
    return safe


def _check_api_secrets(api: dict[str, Any], where: str, errors: list[tuple[str, str]]) -> None:
    """Credentials must not live in a recipe: the resolved recipe goes into recipe.lock.yaml, which `push`
    uploads. Neither value is echoed in the message."""
    from urllib.parse import parse_qsl, urlsplit

    from ..util.secret import looks_like_key

    url = urlsplit(str(api.get("base_url") or ""))
    secret_params = {"key", "api_key", "apikey", "api-key", "token", "access_token", "sig", "signature"}
    if url.username or url.password or any(k.lower() in secret_params for k, _ in parse_qsl(url.query)):
        errors.append((f"{where}.api.base_url", "contains credentials (user:password@ or a key/token parameter); "
                                                "put the key in an environment variable and name it in api_key_env"))
    name = api.get("api_key_env")
    if isinstance(name, str) and name and looks_like_key(name):
        errors.append((f"{where}.api.api_key_env", "looks like an API key, not the name of an environment variable "
                                                   "(value not shown); put the key in a variable and name that"))


def validate_recipe_file(path: str | Path) -> list[tuple[str, str]]:
    """All problems with a recipe, as (field path, message); empty when it is valid."""
    try:
        load_recipe(path)
    except RecipeError as e:
        return e.errors
    return []
