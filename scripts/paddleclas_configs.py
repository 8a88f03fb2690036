#!/usr/bin/env python3
"""Runs PaddleClas's own configs of our model families through `ppcls train --check`, unchanged.

    python3 scripts/paddleclas_configs.py PADDLECLAS_CHECKOUT [--only SUBSTRING] [--families A,B] [--verbose] [--train]

Each config runs as a PaddleClas user runs it: from a working directory that looks like the
PaddleClas checkout (its `ppcls/`, `deploy/` and `docs/` linked in, so label maps and demo
images resolve) with a generated `dataset/` tree holding, at every `image_root` and list path
the config names, a few demo images and a list file in the format of the config's dataset.
Prints one line per config (PASS, or FAIL with ppcls's first error line) and the pass count.
With --train each config also trains for real: one epoch over the generated images with every
sampler's batch size made small (and drop_last off), evaluating at its end; that is what PASS
then means.
The repository does not ship PaddleClas's files; bring a checkout (git clone PaddleClas).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PPCLS = os.path.join(ROOT, "ppcls")
# A config is one of ours when any `name:` in it names one of our families (a prefix of a model name).
FAMILIES = {
    "PPLCNet": r"PPLCNet", "PPLCNetV2": r"PPLCNetV2", "PPHGNet": r"PPHGNet", "PPHGNetV2": r"PPHGNetV2",
    "MobileNetV2": r"MobileNetV2", "ResNet": r"ResNet(18|34|50|101|152|200)_vd\b", "Res2Net": r"Res2Net(50|101|200)_vd_26w_4s",
    "SwinTransformer": r"SwinTransformer_(tiny|small|base|large)_patch4_window(7|12)_(224|384)\b",
}


def family_pattern(names):
    unknown = [n for n in names if n not in FAMILIES]
    if unknown:
        sys.exit(f"--families: unknown {', '.join(unknown)}; use any of {', '.join(FAMILIES)}")
    return re.compile(r"^\s+name:\s*[\"']?(" + "|".join(FAMILIES[n] for n in names) + ")", re.M)
PATH_KEYS = ("image_root", "cls_label_path", "sample_list_path")


def our_configs(checkout, only, pattern):
    base = os.path.join(checkout, "ppcls", "configs")
    if not os.path.isdir(base):
        sys.exit(f"{checkout}: no ppcls/configs here; pass the root of a PaddleClas checkout")
    found = []
    for folder, _, files in os.walk(base):
        for name in files:
            if name.endswith(".yaml"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    if pattern.search(f.read()) and (only is None or only in path):
                        found.append(path)
    return sorted(found)


def strip_value(raw):
    value = raw.split(" #")[0].strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return value


def dataset_blocks(text):
    """Every `dataset:` mapping as a dict of its scalar keys (enough YAML for PaddleClas's configs)."""
    blocks, current, indent = [], None, -1
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        depth = len(line) - len(line.lstrip())
        if current is not None and depth <= indent:
            blocks.append(current)
            current = None
        key, _, value = line.strip().partition(":")
        if current is None and key == "dataset" and not value.strip():
            current, indent = {}, depth
        elif current is not None and value.strip() and not key.startswith("-"):
            current.setdefault(key, strip_value(value))
    if current is not None:
        blocks.append(current)
    return blocks


def class_count(text):
    match = re.search(r"^\s+class_num:\s*(?:&\w+\s+)?(\d+)", text, re.M)
    return int(match.group(1)) if match else 2


def largest_batch(text):
    sizes = [int(m) for m in re.findall(r"^\s+batch_size:\s*(\d+)", text, re.M)]
    return max(sizes, default=1)


def list_lines(dataset, images, classes):
    """The list file's lines in the format the dataset's PaddleClas reader expects."""
    name = dataset.get("name", "ImageNetDataset")
    delimiter = dataset.get("delimiter", " ").encode().decode("unicode_escape")
    if name == "MultiLabelDataset":
        return [f"{img}\t" + ",".join("1" if (i + k) % 2 else "0" for k in range(classes))
                for i, img in enumerate(images)]
    if name == "CustomLabelDataset":
        return list(images)
    if name == "VeriWild":
        return [f"{img} {i % 2} {i % 3}" for i, img in enumerate(images)]
    return [f"{img}{delimiter}{i % min(classes, 2)}" for i, img in enumerate(images)]


def make_workdir(config, checkout, demo_images, train):
    work = tempfile.mkdtemp(prefix="pc-config-")
    for part in ("ppcls", "deploy", "docs"):
        if os.path.exists(os.path.join(checkout, part)):
            os.symlink(os.path.join(checkout, part), os.path.join(work, part))
    with open(config, encoding="utf-8") as f:
        text = f.read()
    classes = class_count(text)
    # --check: enough lines for one full batch of the config (drop_last: True), cycling through the
    # demo images; --train makes the batches small instead, so each image is listed once.
    rows = len(demo_images) if train else max(len(demo_images), largest_batch(text))
    for dataset in dataset_blocks(text):
        root = os.path.join(work, dataset.get("image_root", "."))
        os.makedirs(root, exist_ok=True)
        names = []
        for i, source in enumerate(demo_images):
            names.append(f"img{i}.jpg")
            shutil.copyfile(source, os.path.join(root, names[-1]))
        names = [names[i % len(names)] for i in range(rows)]
        list_key = "sample_list_path" if "sample_list_path" in dataset else "cls_label_path"
        if list_key in dataset:
            list_path = os.path.join(work, dataset[list_key])
            if os.path.isabs(dataset[list_key]) or not dataset[list_key].endswith(".txt"):
                list_path = os.path.join(root, dataset[list_key])
            os.makedirs(os.path.dirname(list_path), exist_ok=True)
            with open(list_path, "w", encoding="utf-8") as f:
                f.write("\n".join(list_lines(dataset, names, classes)) + "\n")
    return work


def mapping_paths(text):
    """(path, key, value) for every scalar `key: value` in the YAML's mappings (list items skipped)."""
    stack = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("-"):
            continue
        depth = len(line) - len(line.lstrip())
        while stack and stack[-1][0] >= depth:
            stack.pop()
        key, _, value = stripped.partition(":")
        value = strip_value(value)
        path = tuple(k for _, k in stack)
        if value and not value.startswith(("&", "*")) or value.startswith("*"):
            yield path, key, value
        else:
            stack.append((depth, key))


def training_overrides(text):
    """-o overrides that make a config train one short epoch on the few generated images."""
    overrides = ["Global.epochs=1", "Global.print_batch_step=1", "Global.eval_interval=1",
                 "Global.start_eval_epoch=0", "Global.save_interval=1"]
    samplers = {}
    for path, key, _ in mapping_paths(text):
        if path and path[0] == "DataLoader" and path[-1] == "sampler":
            samplers.setdefault(".".join(path), set()).add(key)
    for prefix, keys in samplers.items():
        # A PK batch holds two identities of two images each; the others two images.
        if "sample_per_id" in keys:
            overrides += [f"{prefix}.batch_size=4", f"{prefix}.sample_per_id=2"]
        elif "batch_size" in keys:
            overrides.append(f"{prefix}.batch_size=2")
        if "first_bs" in keys:
            overrides.append(f"{prefix}.first_bs=2")
        if "drop_last" in keys:
            overrides.append(f"{prefix}.drop_last=False")
    return overrides


def first_error(output):
    for line in output.splitlines():
        if "error" in line.lower() or "unknown" in line.lower() or "not supported" in line.lower():
            return line.strip()
    lines = [l for l in output.splitlines() if l.strip()]
    return lines[-1].strip() if lines else "(no output)"


def run_config(config, checkout, demo_images, train):
    """(None, output) when the config passes, else (the reason, output)."""
    work = make_workdir(config, checkout, demo_images, train)
    try:
        # The configs ask for a GPU; on a CPU-only build PaddleClas refuses that too, so name the CPU.
        command = [PPCLS, "train", "-c", config, "-o", "Global.device=cpu"]
        if train:
            with open(config, encoding="utf-8") as f:
                for override in training_overrides(f.read()):
                    command += ["-o", override]
        else:
            command.append("--check")
        run = subprocess.run(command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if run.returncode:
        return first_error(run.stdout), run.stdout
    missing = [tag for tag in ("[Train]", "[Eval]") if train and tag not in run.stdout]
    return (f"exited 0 but logged no {' or '.join(missing)} line" if missing else None), run.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkout", help="root of a PaddleClas checkout")
    parser.add_argument("--only", help="run only configs whose path contains this")
    parser.add_argument("--verbose", action="store_true", help="print ppcls's whole output for failures")
    parser.add_argument("--train", action="store_true", help="train one short epoch and evaluate instead of --check")
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help="comma-separated families whose configs run (default: all of ours)")
    args = parser.parse_args()
    checkout = os.path.abspath(args.checkout)
    configs = our_configs(checkout, args.only, family_pattern(args.families.split(",")))

    demo = tempfile.mkdtemp(prefix="pc-demo-")
    subprocess.run([PPCLS, "dataset", "make-demo", demo, "--classes", "2", "--per-class", "2", "--size", "64"],
                   check=True, stdout=subprocess.DEVNULL)
    demo_images = sorted(os.path.join(d, f) for d, _, fs in os.walk(demo) for f in fs if f.endswith((".jpg", ".png")))

    passed = 0
    by_folder = {}
    for config in configs:
        shown = os.path.relpath(config, checkout)
        reason, output = run_config(config, checkout, demo_images, args.train)
        folder = by_folder.setdefault(shown.split(os.sep)[2], [0, 0])
        folder[1] += 1
        if reason is None:
            passed += 1
            folder[0] += 1
            print(f"PASS {shown}")
        else:
            print(f"FAIL {shown}: {reason}")
            if args.verbose:
                print(output)
    shutil.rmtree(demo, ignore_errors=True)
    print("by folder: " + ", ".join(f"{name} {ok}/{total}" for name, (ok, total) in sorted(by_folder.items())))
    what = "train one epoch and evaluate" if args.train else "pass `ppcls train --check`"
    print(f"{passed} of {len(configs)} PaddleClas configs {what}")


if __name__ == "__main__":
    main()
