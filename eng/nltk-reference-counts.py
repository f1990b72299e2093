#!/usr/bin/env python3
"""NLTK's own class counts of every level of the ImageNet-1k and ImageNet-21k WordNet hierarchies.

The reference `nltk-first-hypernym` is tested against (WordNetNltkReferenceTests). The parent of a synset is
NLTK's `synset.hypernyms()[0]`; a synset whose hypernyms() is empty (entity, and the synsets that only have
instance hypernyms, '@i') is a root. Levels are cut as the library documents them (LabelTree.Cut):
  depth d    each class goes to its ancestor at depth d (roots have depth 0); a shallower class keeps its label
  up n       each class goes n steps up, stopping at its root
  height h   each class goes to its highest ancestor of height <= h (a class of greater height keeps its label)
  up-down n  Huh et al. 2016's up_down rounds: every label moves to its parent (a root stays), then takes the
             highest of the moved-to nodes on its path to its root
Rule nltk-with-instances takes `(hypernyms() or instance_hypernyms())[0]` instead (one root, entity).
Each row gives the class count, the number of roots and a fingerprint: the first 16 hex digits of SHA-256 over the level's sorted
label wnids joined by single spaces.

Usage (Debian): apt-get install python3-nltk wordnet-base, then
  /usr/bin/python3 eng/nltk-reference-counts.py --wordnet /usr/share/wordnet > data-manifests/hierarchies/reference/nltk-wordnet-counts.csv
NLTK's reader needs a `lexnames` file that wordnet-base does not ship; when it is missing the script reads the
WordNet folder through a temporary folder of links with a placeholder lexnames (lexicographer names play no part
in hypernyms()).
"""
import argparse
import hashlib
import os
import sys
import tempfile

import nltk
from nltk.corpus.reader.wordnet import WordNetCorpusReader

HERE = os.path.dirname(os.path.abspath(__file__))
ARTIFACTS = os.path.join(HERE, "..", "data-manifests", "hierarchies")


def class_lists():
    one_k = []
    with open(os.path.join(ARTIFACTS, "imagenet1k-classes.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or line.startswith("index\t") or not line.strip():
                continue
            one_k.append(line.split("\t")[1])
    with open(os.path.join(ARTIFACTS, "imagenet21k-google-classes.txt"), encoding="utf-8") as f:
        google = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    return [("imagenet1k", one_k), ("imagenet21k", google)]


def open_wordnet(folder):
    if os.path.exists(os.path.join(folder, "lexnames")):
        return WordNetCorpusReader(folder, None)
    links = tempfile.mkdtemp(prefix="wordnet-")
    for name in os.listdir(folder):
        os.symlink(os.path.join(folder, name), os.path.join(links, name))
    with open(os.path.join(links, "lexnames"), "w", encoding="ascii") as f:
        f.writelines(f"{i:02d}\tlexicographer.file.{i:02d}\t1\n" for i in range(45))
    return WordNetCorpusReader(links, None)


def wnid(synset):
    return "n%08d" % synset.offset()


def build(wn, classes, with_instances):
    """Parent of every class and chosen ancestor under NLTK's rule (None for a root)."""
    parent = {}
    for c in classes:
        node = c
        while node not in parent:
            synset = wn.synset_from_pos_and_offset("n", int(node[1:]))
            hypernyms = synset.hypernyms() or (synset.instance_hypernyms() if with_instances else [])
            parent[node] = wnid(hypernyms[0]) if hypernyms else None
            node = parent[node]
            if node is None:
                break
    return parent


def levels(parent, classes):
    depth = {}

    def depth_of(node):
        if node not in depth:
            depth[node] = 0 if parent[node] is None else depth_of(parent[node]) + 1
        return depth[node]

    for node in parent:
        depth_of(node)
    height = dict.fromkeys(parent, 0)
    for node in sorted(parent, key=lambda n: -depth[n]):
        if parent[node] is not None:
            height[parent[node]] = max(height[parent[node]], height[node] + 1)
    max_depth = max(depth[c] for c in classes)
    max_height = max(height[n] for n in parent if parent[n] is None)

    def up(node, steps):
        for _ in range(steps):
            if parent[node] is None:
                break
            node = parent[node]
        return node

    def at_depth(node, d):
        while depth[node] > d:
            node = parent[node]
        return node

    def at_height(node, h):
        if height[node] <= h:
            while parent[node] is not None and height[parent[node]] <= h:
                node = parent[node]
        return node

    def up_down(rounds):
        labels = list(classes)
        for _ in range(rounds):
            labels = [label if parent[label] is None else parent[label] for label in labels]
            lifted = set(labels)
            relabelled = []
            for label in labels:
                node = parent[label]
                while node is not None:
                    if node in lifted:
                        label = node
                    node = parent[node]
                relabelled.append(label)
            labels = relabelled
        return labels

    for d in range(max_depth + 1):
        yield "depth", d, [at_depth(c, d) for c in classes]
    for n in range(max_depth + 1):
        yield "up", n, [up(c, n) for c in classes]
    for h in range(max_height + 1):
        yield "height", h, [at_height(c, h) for c in classes]
    for n in range(max_depth + 1):
        yield "up-down", n, up_down(n)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", default="/usr/share/wordnet", help="WordNet 3.0 dict folder (data.noun, index.noun, …)")
    args = parser.parse_args()
    wn = open_wordnet(args.wordnet)
    if wn.get_version() != "3.0":
        sys.exit(f"{args.wordnet}: WordNet {wn.get_version()}, expected 3.0 (ImageNet wnids are WordNet 3.0 offsets)")
    with open(os.path.join(args.wordnet, "data.noun"), "rb") as f:
        data_noun_sha = hashlib.sha256(f.read()).hexdigest()
    out = sys.stdout
    out.write("# NLTK's own class counts per level of the ImageNet WordNet hierarchies: parent = synset.hypernyms()[0],\n")
    out.write("# a synset without hypernyms() (entity; synsets with only instance hypernyms '@i') is a root of its own.\n")
    out.write(f"# Generated by eng/nltk-reference-counts.py with NLTK {nltk.__version__} (Debian python3-nltk) over WordNet 3.0\n")
    out.write(f"# (Debian wordnet-base) data.noun sha256 {data_noun_sha}. WordNet 3.0 (c) 2006 Princeton University, WordNet licence.\n")
    out.write("# fingerprint: first 16 hex digits of SHA-256 over the level's sorted label wnids joined by single spaces.\n")
    out.write("# rule nltk-with-instances: parent = (synset.hypernyms() or synset.instance_hypernyms())[0], one root.\n")
    out.write("rule,label_set,cut,level,classes,roots,fingerprint\n")
    for rule, with_instances in [("nltk-first-hypernym", False), ("nltk-with-instances", True)]:
        for name, classes in class_lists():
            parent = build(wn, classes, with_instances)
            roots = sum(1 for p in parent.values() if p is None)
            for cut, level, labels in levels(parent, classes):
                distinct = sorted(set(labels))
                fingerprint = hashlib.sha256(" ".join(distinct).encode("utf-8")).hexdigest()[:16]
                out.write(f"{rule},{name},{cut},{level},{len(distinct)},{roots},{fingerprint}\n")


if __name__ == "__main__":
    main()
