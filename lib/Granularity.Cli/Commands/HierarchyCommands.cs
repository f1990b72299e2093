using System.CommandLine;
using Granularity.Core;
using Granularity.Hierarchy;
using static Granularity.Cli.CliOptions;

namespace Granularity.Cli.Commands;

/// <summary>`granularity hierarchy …`: label hierarchies (iNat2021 taxonomy, WordNet for ImageNet), their levels and alignment.</summary>
public static class HierarchyCommands
{
    public static IEnumerable<Command> Build() =>
        [Group("hierarchy", "label hierarchies: levels, labels, alignment, committed artifacts", Levels(), Label(), Align(), BuildWordNet(), ImportInat2021(), BenchCommands.Hierarchy())];

    private const string SourceHelp = "inat2021 | imagenet1k | imagenet21k | imagenet21k-p | imagenet21k-p-fall11 | PATH of a 'parent child' edge list";

    private static Option<string> Source() => Required("--source", SourceHelp, "SOURCE");

    private static Option<string> Rule() => Choice("--rule", "WordNet parent rule: nltk-first-hypernym (NLTK's hypernyms()[0], Huh et al. 2016; instance-only synsets are roots), nltk-with-instances (the same, instance-only synsets under their instance hypernym), pointer-order (data.noun's first pointer), shortest-path, semantic-tree (imagenet21k-p only)",
        HierarchySources.RuleKey(HierarchySources.DefaultRule), "nltk-first-hypernym", "nltk-with-instances", "pointer-order", "shortest-path", "semantic-tree");

    private static Option<string> Cut(string description) => Choice("--cut", description, "depth", "depth", "height", "up", "up-down");

    private static Option<bool> Json() => Flag("--json", "machine-readable output");

    private static HierarchySource Load(ParseResult parse, Option<string> source, Option<string> rule) =>
        HierarchySources.Load(parse.GetValue(source)!, HierarchySources.ParseRule(parse.GetValue(rule)!));

    private static CutKind KindOf(ParseResult parse, Option<string> cut) => GranularityLevel.ParseKind(parse.GetValue(cut)!)!.Value;

    private static void PrintJson<T>(T value) => Console.WriteLine(JsonFiles.Serialize(value));

    private static Command Levels()
    {
        Option<string> source = Source(), rule = Rule(), cut = Cut("depth (from the root), height (above the leaves), up (n steps up from each class) or up-down (Huh et al.'s merge rounds)");
        var json = Json();
        return Command("levels", "classes per level (and classes/images per label) of iNat2021, ImageNet or an edge list", [source, rule, cut, json], parse =>
        {
            var loaded = Load(parse, source, rule);
            var kind = KindOf(parse, cut);
            var summaries = loaded.Summaries(kind);
            if (parse.GetValue(json))
            {
                PrintJson(new
                {
                    source = loaded.Key, tree = loaded.Tree.Name, classes = loaded.Tree.LeafCount, nodes = loaded.Tree.NodeCount,
                    cut = kind.ToString(), imageCounts = loaded.ImageCountsSource, notes = loaded.Tree.Notes, levels = summaries,
                    nearestPaperLevel9 = loaded.NearestPaperLevel9(),
                });
                return 0;
            }
            Console.WriteLine($"{loaded.Tree.Name}: {loaded.Tree.LeafCount:N0} classes, {loaded.Tree.NodeCount:N0} nodes, classes at depth {loaded.Tree.MinLeafDepth}..{loaded.Tree.MaxLeafDepth}");
            foreach (var note in loaded.Tree.Notes) Console.WriteLine($"note: {note}");
            var images = loaded.ImageCountsSource is null ? "" : $"   images/class (min · median · max) — {loaded.ImageCountsSource}";
            Console.WriteLine($"\n{"level",-14} {"classes",9}   classes below a label (min · median · max){images}");
            foreach (var s in summaries)
            {
                var line = $"{s.Level,-14} {s.Classes,9:N0}   {s.MinLeavesPerClass,6:N0} · {s.MedianLeavesPerClass,8:N1} · {s.MaxLeavesPerClass,7:N0}";
                if (s.Images is not null) line += $"   {s.MinImagesPerClass,8:N0} · {s.MedianImagesPerClass,10:N1} · {s.MaxImagesPerClass,9:N0}";
                Console.WriteLine(line);
            }
            if (loaded.NearestPaperLevel9() is { } nearest) Console.WriteLine($"\n{nearest}");
            return 0;
        });
    }

    private static Command Label()
    {
        Option<string> source = Source(), rule = Rule(), cut = Cut("without --level: list the class's label at every level of this kind and every named level");
        var @class = Required("--class", "the class: a wnid (n02084071), an iNat2021 species name (\"Lumbricus terrestris\") or a class index (#17)", "ID");
        var level = Text("--level", "depth:N, height:N, up:N, leaves, or a named level (iNat2021: kingdom … species, supercategory)", "LEVEL");
        var json = Json();
        return Command("label", "the label of one class at a level, or at every level", [source, @class, level, cut, rule, json], parse =>
        {
            var loaded = Load(parse, source, rule);
            var classText = parse.GetValue(@class)!;
            var tree = loaded.Tree;
            int leaf = classText.StartsWith('#') && int.TryParse(classText[1..], out var index)
                ? (index >= 0 && index < tree.LeafCount ? index : throw new ArgumentException($"--class: index {index} is outside 0..{tree.LeafCount - 1}"))
                : tree.LeafIndex(classText);
            var maps = parse.GetValue(level) is { } levelText
                ? new[] { loaded.Level(levelText) }
                : loaded.NamedLevels.Concat(tree.CutAll(KindOf(parse, cut))).ToArray();
            var rows = maps.Select(m => new { level = m.Level, classes = m.ClassCount, label = m.LeafToLabel[leaf], name = m.ClassNames[m.LeafToLabel[leaf]], title = m.ClassTitles[m.LeafToLabel[leaf]] }).ToList();
            var node = tree.LeafNode(leaf);
            var path = tree.PathFromRoot(node).Select(tree.Title).ToArray();
            if (parse.GetValue(json))
            {
                PrintJson(new { source = loaded.Key, tree = tree.Name, @class = tree.Id(node), title = tree.Title(node), index = leaf, depth = tree.Depth(node), path, labels = rows });
                return 0;
            }
            Console.WriteLine($"{tree.Title(node)} — class {leaf:N0} of {tree.LeafCount:N0} in {tree.Name}, depth {tree.Depth(node)}");
            Console.WriteLine($"path: {string.Join(" → ", path)}");
            Console.WriteLine($"\n{"level",-14} {"classes",9} {"label",7}  name");
            foreach (var row in rows) Console.WriteLine($"{row.level,-14} {row.classes,9:N0} {row.label,7}  {row.title}");
            return 0;
        });
    }

    private static Command Align()
    {
        Option<string> source = Source(), rule = Rule();
        var pretraining = Required("--pretraining", "the pretraining level, e.g. species, genus, up:2, depth:6", "LEVEL");
        var target = Required("--target", "the target level, e.g. supercategory, depth:3", "LEVEL");
        var json = Json();
        return Command("align", "is the target level a coarsening of the pretraining level? H(target | pretraining) in bits (classes weighted by their images where counts are known)",
            [source, pretraining, target, rule, json], parse =>
        {
            var loaded = Load(parse, source, rule);
            var from = loaded.Level(parse.GetValue(pretraining)!);
            var to = loaded.Level(parse.GetValue(target)!);
            var report = Alignment.Measure(from, to, loaded.ImagesPerLeaf ?? default(ReadOnlySpan<long>));
            if (parse.GetValue(json))
            {
                PrintJson(new
                {
                    source = loaded.Key, pretraining = from.Level, pretrainingClasses = from.ClassCount, target = to.Level, targetClasses = to.ClassCount,
                    conditionalEntropyBits = report.ConditionalEntropyBits, targetEntropyBits = report.TargetEntropyBits, report.IsCoarsening,
                    report.MixedPretrainingClasses, report.MixedImageFraction,
                });
                return 0;
            }
            Console.WriteLine($"{loaded.Tree.Name}: pretraining {from.Level} ({from.ClassCount:N0} classes) → target {to.Level} ({to.ClassCount:N0} classes)");
            Console.WriteLine($"H(target | pretraining) = {report.ConditionalEntropyBits:0.####} bits (H(target) = {report.TargetEntropyBits:0.####} bits)");
            Console.WriteLine(report.IsCoarsening
                ? "aligned: the target is a coarsening of the pretraining labels"
                : $"not aligned: {report.MixedPretrainingClasses:N0} pretraining classes span several target classes ({report.MixedImageFraction:P1} of the {(loaded.ImagesPerLeaf is null ? "classes" : "images")})");
            return 0;
        });
    }

    private static Command BuildWordNet()
    {
        var dataNoun = Text("--data-noun", "WordNet 3.0 data.noun (Debian/Ubuntu package wordnet-base)", "/usr/share/wordnet/data.noun", "PATH");
        var output = Text("--out", "the artifact folder holding the ImageNet class lists", HierarchyArtifacts.Folder, "DIR");
        return Command("build-wordnet", "regenerate data-manifests/hierarchies/wordnet30-* from WordNet 3.0's data.noun (rebuild the library afterwards: the artifacts are embedded in it)",
            [dataNoun, output], parse =>
        {
            var written = HierarchyArtifactBuilder.BuildWordNet(parse.GetValue(dataNoun)!, parse.GetValue(output)!);
            Console.WriteLine($"{written.Synsets:N0} synsets, {written.Edges:N0} is-a edges from {parse.GetValue(dataNoun)} (sha256 {written.DataNounSha256})");
            foreach (var file in written.Files) Console.WriteLine($"wrote {file} ({new FileInfo(file).Length / 1024.0:N0} KiB)");
            return 0;
        });
    }

    private static Command ImportInat2021()
    {
        var from = Required("--from", "an official iNat2021 annotation file (train.json, train_mini.json, val.json) or a categories CSV", "PATH");
        var output = Text("--out", "the artifact folder", HierarchyArtifacts.Folder, "DIR");
        return Command("import-inat2021", "regenerate data-manifests/hierarchies/inat2021-categories.csv from train/val JSON (or a CSV)", [from, output], parse =>
        {
            var written = HierarchyArtifactBuilder.ImportInat2021(parse.GetValue(from)!, parse.GetValue(output)!);
            Console.WriteLine($"{written.Synsets:N0} categories from {parse.GetValue(from)} → {written.Files[0]}");
            return 0;
        });
    }
}
