using Granularity.Core;
using Granularity.Hierarchy;
using Granularity.Runs;

namespace Granularity.Cli.Commands;

/// <summary>Shared option reading for the hierarchy commands.</summary>
internal static class HierarchyOptions
{
    public const string SourceHelp = "inat2021 | imagenet1k | imagenet21k | imagenet21k-p | imagenet21k-p-fall11 | PATH of a 'parent child' edge list";

    public static HierarchySource Source(CliArguments arguments)
    {
        var key = arguments.RequiredString("source");
        var rule = HierarchySources.ParseRule(arguments.String("rule", HierarchySources.RuleKey(HierarchySources.DefaultRule)));
        return HierarchySources.Load(key, rule);
    }

    public static void Print<T>(T value) => Console.WriteLine(JsonFiles.Serialize(value));
}

/// <summary>`granularity hierarchy levels`: classes per level of a hierarchy.</summary>
public sealed class HierarchyLevelsCommand : ICliCommand
{
    public string Name => "hierarchy levels";
    public string Summary => "classes per level (and classes/images per label) of iNat2021, ImageNet or an edge list";
    public string Usage => $"""
        usage: granularity hierarchy levels --source SOURCE [--rule RULE] [--cut depth|height|up] [--json]
          --source   {HierarchyOptions.SourceHelp}
          --rule     WordNet parent rule: nltk-first-hypernym (default), pointer-order, shortest-path, semantic-tree (imagenet21k-p only)
          --cut      depth (default: from the root), height (above the leaves), up (n steps up from each class) or up-down (Huh et al.)
          --json     machine-readable output
        """;

    public int Run(CliArguments arguments)
    {
        var source = HierarchyOptions.Source(arguments);
        var kind = GranularityLevel.ParseKind(arguments.String("cut", "depth")) ?? throw new CliUsageException("--cut must be depth, height, up or up-down");
        var json = arguments.Flag("json");
        arguments.RejectUnknown();
        var summaries = source.Summaries(kind);
        if (json)
        {
            HierarchyOptions.Print(new
            {
                source = source.Key, tree = source.Tree.Name, classes = source.Tree.LeafCount, nodes = source.Tree.NodeCount,
                cut = kind.ToString(), imageCounts = source.ImageCountsSource, notes = source.Tree.Notes, levels = summaries,
                nearestPaperLevel9 = source.NearestPaperLevel9(),
            });
            return 0;
        }
        Console.WriteLine($"{source.Tree.Name}: {source.Tree.LeafCount:N0} classes, {source.Tree.NodeCount:N0} nodes, classes at depth {source.Tree.MinLeafDepth}..{source.Tree.MaxLeafDepth}");
        foreach (var note in source.Tree.Notes) Console.WriteLine($"note: {note}");
        var images = source.ImageCountsSource is null ? "" : $"   images/class (min · median · max) — {source.ImageCountsSource}";
        Console.WriteLine($"\n{"level",-14} {"classes",9}   classes below a label (min · median · max){images}");
        foreach (var s in summaries)
        {
            var line = $"{s.Level,-14} {s.Classes,9:N0}   {s.MinLeavesPerClass,6:N0} · {s.MedianLeavesPerClass,8:N1} · {s.MaxLeavesPerClass,7:N0}";
            if (s.Images is not null) line += $"   {s.MinImagesPerClass,8:N0} · {s.MedianImagesPerClass,10:N1} · {s.MaxImagesPerClass,9:N0}";
            Console.WriteLine(line);
        }
        if (source.NearestPaperLevel9() is { } nearest) Console.WriteLine($"\n{nearest}");
        return 0;
    }
}

/// <summary>`granularity hierarchy label`: the label of one class at a level (or at every level).</summary>
public sealed class HierarchyLabelCommand : ICliCommand
{
    public string Name => "hierarchy label";
    public string Summary => "the label of one class at a level, or at every level";
    public string Usage => $"""
        usage: granularity hierarchy label --source SOURCE --class ID [--level LEVEL | --cut depth|height|up] [--rule RULE] [--json]
          --source   {HierarchyOptions.SourceHelp}
          --class    the class: a wnid (n02084071), an iNat2021 species name ("Lumbricus terrestris") or a class index (#17)
          --level    depth:N, height:N, up:N, leaves, or a named level (iNat2021: kingdom … species, supercategory)
          --cut      without --level: list the class's label at every level of this kind (default depth) and every named level
          --rule     WordNet parent rule: nltk-first-hypernym (default), pointer-order, shortest-path, semantic-tree
          --json     machine-readable output
        """;

    public int Run(CliArguments arguments)
    {
        var source = HierarchyOptions.Source(arguments);
        var classText = arguments.RequiredString("class");
        var levelText = arguments.String("level");
        var kind = GranularityLevel.ParseKind(arguments.String("cut", "depth")) ?? throw new CliUsageException("--cut must be depth, height, up or up-down");
        var json = arguments.Flag("json");
        arguments.RejectUnknown();
        var tree = source.Tree;
        int leaf = classText.StartsWith('#') && int.TryParse(classText[1..], out var index)
            ? (index >= 0 && index < tree.LeafCount ? index : throw new ArgumentException($"class index {index} is outside 0..{tree.LeafCount - 1}"))
            : tree.LeafIndex(classText);
        var maps = levelText is not null
            ? new[] { source.Level(levelText) }
            : source.NamedLevels.Concat(tree.CutAll(kind)).ToArray();
        var rows = maps.Select(m => new { level = m.Level, classes = m.ClassCount, label = m.LeafToLabel[leaf], name = m.ClassNames[m.LeafToLabel[leaf]], title = m.ClassTitles[m.LeafToLabel[leaf]] }).ToList();
        var node = tree.LeafNode(leaf);
        var path = tree.PathFromRoot(node).Select(tree.Title).ToArray();
        if (json)
        {
            HierarchyOptions.Print(new { source = source.Key, tree = tree.Name, @class = tree.Id(node), title = tree.Title(node), index = leaf, depth = tree.Depth(node), path, labels = rows });
            return 0;
        }
        Console.WriteLine($"{tree.Title(node)} — class {leaf:N0} of {tree.LeafCount:N0} in {tree.Name}, depth {tree.Depth(node)}");
        Console.WriteLine($"path: {string.Join(" → ", path)}");
        Console.WriteLine($"\n{"level",-14} {"classes",9} {"label",7}  name");
        foreach (var row in rows) Console.WriteLine($"{row.level,-14} {row.classes,9:N0} {row.label,7}  {row.title}");
        return 0;
    }
}

/// <summary>`granularity hierarchy align`: the alignment of a target level with a pretraining level.</summary>
public sealed class HierarchyAlignCommand : ICliCommand
{
    public string Name => "hierarchy align";
    public string Summary => "is the target level a coarsening of the pretraining level? H(target | pretraining) in bits";
    public string Usage => $"""
        usage: granularity hierarchy align --source SOURCE --pretraining LEVEL --target LEVEL [--rule RULE] [--json]
          --source        {HierarchyOptions.SourceHelp}
          --pretraining   e.g. species, genus, up:2, depth:6
          --target        e.g. supercategory, depth:3
          (classes are weighted by their images where counts are known, else equally)
        """;

    public int Run(CliArguments arguments)
    {
        var source = HierarchyOptions.Source(arguments);
        var pretraining = source.Level(arguments.RequiredString("pretraining"));
        var target = source.Level(arguments.RequiredString("target"));
        var json = arguments.Flag("json");
        arguments.RejectUnknown();
        var report = Alignment.Measure(pretraining, target, source.ImagesPerLeaf ?? default(ReadOnlySpan<long>));
        var result = new
        {
            source = source.Key, pretraining = pretraining.Level, pretrainingClasses = pretraining.ClassCount, target = target.Level, targetClasses = target.ClassCount,
            conditionalEntropyBits = report.ConditionalEntropyBits, targetEntropyBits = report.TargetEntropyBits, report.IsCoarsening,
            report.MixedPretrainingClasses, report.MixedImageFraction,
        };
        if (json) { HierarchyOptions.Print(result); return 0; }
        Console.WriteLine($"{source.Tree.Name}: pretraining {pretraining.Level} ({pretraining.ClassCount:N0} classes) → target {target.Level} ({target.ClassCount:N0} classes)");
        Console.WriteLine($"H(target | pretraining) = {report.ConditionalEntropyBits:0.####} bits (H(target) = {report.TargetEntropyBits:0.####} bits)");
        Console.WriteLine(report.IsCoarsening
            ? "aligned: the target is a coarsening of the pretraining labels"
            : $"not aligned: {report.MixedPretrainingClasses:N0} pretraining classes span several target classes ({report.MixedImageFraction:P1} of the {(source.ImagesPerLeaf is null ? "classes" : "images")})");
        return 0;
    }
}

/// <summary>`granularity hierarchy build-wordnet`: regenerates the committed WordNet artifacts from data.noun.</summary>
public sealed class HierarchyBuildWordNetCommand : ICliCommand
{
    public string Name => "hierarchy build-wordnet";
    public string Summary => "regenerate data-manifests/hierarchies/wordnet30-* from WordNet 3.0's data.noun";
    public string Usage => """
        usage: granularity hierarchy build-wordnet [--data-noun PATH] [--out FOLDER]
          --data-noun   WordNet 3.0 data.noun (default /usr/share/wordnet/data.noun: Debian/Ubuntu package wordnet-base)
          --out         the artifact folder holding the ImageNet class lists (default data-manifests/hierarchies)
        Rebuild the library afterwards: the artifacts are embedded in it.
        """;

    public int Run(CliArguments arguments)
    {
        var dataNoun = arguments.String("data-noun", "/usr/share/wordnet/data.noun");
        var folder = arguments.String("out", HierarchyArtifacts.Folder);
        arguments.RejectUnknown();
        var written = HierarchyArtifactBuilder.BuildWordNet(dataNoun, folder);
        Console.WriteLine($"{written.Synsets:N0} synsets, {written.Edges:N0} is-a edges from {dataNoun} (sha256 {written.DataNounSha256})");
        foreach (var file in written.Files) Console.WriteLine($"wrote {file} ({new FileInfo(file).Length / 1024.0:N0} KiB)");
        return 0;
    }
}

/// <summary>`granularity hierarchy import-inat2021`: rewrites the committed iNat2021 category list from an official annotation file.</summary>
public sealed class HierarchyImportInat2021Command : ICliCommand
{
    public string Name => "hierarchy import-inat2021";
    public string Summary => "regenerate data-manifests/hierarchies/inat2021-categories.csv from train/val JSON (or a CSV)";
    public string Usage => """
        usage: granularity hierarchy import-inat2021 --from PATH [--out FOLDER]
          --from   an official iNat2021 annotation file (train.json, train_mini.json, val.json) or a categories CSV
          --out    the artifact folder (default data-manifests/hierarchies)
        """;

    public int Run(CliArguments arguments)
    {
        var from = arguments.RequiredString("from");
        var folder = arguments.String("out", HierarchyArtifacts.Folder);
        arguments.RejectUnknown();
        var written = HierarchyArtifactBuilder.ImportInat2021(from, folder);
        Console.WriteLine($"{written.Synsets:N0} categories from {from} → {written.Files[0]}");
        return 0;
    }
}

/// <summary>`granularity hierarchy bench`: load + cut timings and labelling a million images.</summary>
public sealed class HierarchyBenchCommand : ICliCommand
{
    public string Name => "hierarchy bench";
    public string Summary => "time loading the full hierarchies with every level cut, and labelling 1M images";
    public string Usage => """
        usage: granularity hierarchy bench [--repetitions N] [--images N] [--json]
          run under `taskset -c 0` for one-core figures (the workload itself is single-threaded)
        """;

    public int Run(CliArguments arguments)
    {
        var repetitions = arguments.Int("repetitions", 7, min: 1, max: 1000);
        var images = arguments.Int("images", 1_000_000, min: 1);
        var json = arguments.Flag("json");
        arguments.RejectUnknown();
        var figures = HierarchyBenchmark.Run(repetitions, images);
        if (json) { HierarchyOptions.Print(figures); return 0; }
        Console.WriteLine($"{Environment.ProcessorCount} logical processors visible; medians of {repetitions} interleaved repetitions");
        foreach (var f in figures) Console.WriteLine($"{f.MedianMs,9:N1} ms  (min {f.MinMs:N1}, max {f.MaxMs:N1})  {f.Task} — {f.Detail}");
        return 0;
    }
}
