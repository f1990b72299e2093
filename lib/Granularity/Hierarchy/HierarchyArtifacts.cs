using Granularity.Core;
using Granularity.Runs;

namespace Granularity.Hierarchy;

/// <summary>
/// The committed hierarchy artifacts (data-manifests/hierarchies/*). They are also embedded in the library at build
/// time, so the hierarchies load from any working directory and on any OS with no WordNet install.
/// </summary>
public static class HierarchyArtifacts
{
    public const string Inat2021Categories = "inat2021-categories.csv";
    public const string WordNetIsA = "wordnet30-isa.txt";
    public const string WordNetLemmas = "wordnet30-lemmas.tsv";
    public const string WordNetNltk = "wordnet30-nltk.tsv";
    public const string ImageNet1kClasses = "imagenet1k-classes.tsv";
    public const string ImageNet21kClasses = "imagenet21k-google-classes.txt";
    public const string ImageNet21kFall11Classes = "imagenet21k-fall11-classes.txt";
    public const string ImageNet21kPClasses = "imagenet21k-p-winter21-classes.txt";
    public const string ImageNet21kPFall11Classes = "imagenet21k-p-fall11-classes.txt";
    public const string ImageNet21kPTree = "imagenet21k-p-winter21-tree.txt";

    /// <summary>Every committed artifact.</summary>
    public static readonly IReadOnlyList<string> All = new[]
    {
        Inat2021Categories, WordNetIsA, WordNetLemmas, WordNetNltk, ImageNet1kClasses, ImageNet21kClasses, ImageNet21kFall11Classes, ImageNet21kPClasses, ImageNet21kPFall11Classes, ImageNet21kPTree,
    };

    /// <summary>The folder in the repository: data-manifests/hierarchies.</summary>
    public static string Folder => Path.Combine(ProjectPaths.ManifestsRoot, "hierarchies");

    /// <summary>Opens the embedded copy of artifact <paramref name="name"/>.</summary>
    public static TextReader Open(string name)
    {
        var stream = typeof(HierarchyArtifacts).Assembly.GetManifestResourceStream("hierarchies/" + name)
            ?? throw new FileNotFoundException($"hierarchy artifact '{name}' is not embedded in the library; expected one of {string.Join(", ", All)} (rebuild after adding it to data-manifests/hierarchies)");
        return new StreamReader(stream);
    }

    /// <summary>The non-empty, non-comment lines of an artifact with their line numbers.</summary>
    public static IEnumerable<(string Line, int Number)> Lines(string name)
    {
        using var reader = Open(name);
        int number = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            number++;
            if (line.Length == 0 || line[0] == '#') continue;
            yield return (line, number);
        }
    }
}
