using System.Globalization;

namespace Granularity.Hierarchy;

/// <summary>How a level is cut from a tree.</summary>
public enum CutKind
{
    /// <summary>At a depth from the root (depth 0 = the root alone).</summary>
    Depth,
    /// <summary>At a height above the leaves (height 0 = nodes without children).</summary>
    Height,
    /// <summary>n steps up from each class (the paper numbers its ImageNet-21k levels this way; 0 = the classes).</summary>
    StepsUp,
    /// <summary>
    /// Huh, Agrawal and Efros 2016's up_down, applied n times: every label moves to its parent, then labels whose new node
    /// lies below another new node merge into the highest one (0 = the classes).
    /// </summary>
    UpDown,
}

/// <summary>One granularity level of a tree: a cut kind and its number (see <see cref="LabelTree.Cut"/>).</summary>
public readonly record struct GranularityLevel(CutKind Kind, int Value)
{
    public static GranularityLevel Depth(int depth) => new(CutKind.Depth, depth);
    public static GranularityLevel Height(int height) => new(CutKind.Height, height);
    public static GranularityLevel StepsUp(int steps) => new(CutKind.StepsUp, steps);
    public static GranularityLevel UpDown(int rounds) => new(CutKind.UpDown, rounds);

    /// <summary>The finest level: every class its own label.</summary>
    public static GranularityLevel Leaves => StepsUp(0);

    public override string ToString() => Kind switch
    {
        CutKind.Depth => $"depth {Value}",
        CutKind.Height => $"height {Value}",
        CutKind.UpDown => $"up-down {Value}",
        _ => $"{Value} up",
    };

    /// <summary>Parses "depth:3", "height:2", "up:9" (or "steps-up:9"), "up-down:2" and "leaves"; anything else is an error listing the forms.</summary>
    public static GranularityLevel Parse(string text)
    {
        var trimmed = text.Trim().ToLowerInvariant();
        if (trimmed == "leaves") return Leaves;
        var parts = trimmed.Split(':', 2);
        if (parts.Length == 2 && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= 0)
        {
            var kind = ParseKind(parts[0]);
            if (kind is not null) return new GranularityLevel(kind.Value, value);
        }
        throw new ArgumentException($"level '{text}' not understood; expected depth:N, height:N, up:N, up-down:N or leaves (N ≥ 0)");
    }

    /// <summary>"depth", "height", "up"/"steps-up", "up-down"; null when unknown.</summary>
    public static CutKind? ParseKind(string text) => text.Trim().ToLowerInvariant() switch
    {
        "depth" => CutKind.Depth,
        "height" => CutKind.Height,
        "up" or "steps-up" or "stepsup" => CutKind.StepsUp,
        "up-down" or "updown" or "up_down" => CutKind.UpDown,
        _ => null,
    };
}

/// <summary>Classes at one level, and how many classes (and images, where counts are known) each label covers.</summary>
public sealed record LevelSummary(
    string Level,
    int Classes,
    int MinLeavesPerClass,
    double MedianLeavesPerClass,
    int MaxLeavesPerClass,
    long? Images,
    long? MinImagesPerClass,
    double? MedianImagesPerClass,
    long? MaxImagesPerClass)
{
    /// <summary>Summarises <paramref name="map"/>; image figures are null when <paramref name="imagesPerLeaf"/> is empty.</summary>
    public static LevelSummary Of(GranularityLevel level, LabelMap map, ReadOnlySpan<long> imagesPerLeaf = default) =>
        Of(level.ToString(), map, imagesPerLeaf);

    public static LevelSummary Of(string level, LabelMap map, ReadOnlySpan<long> imagesPerLeaf = default)
    {
        var leaves = map.LeavesPerClass();
        Array.Sort(leaves);
        if (imagesPerLeaf.IsEmpty)
            return new LevelSummary(level, map.ClassCount, leaves[0], Median(leaves), leaves[^1], null, null, null, null);
        var images = map.ImagesPerClass(imagesPerLeaf);
        var total = images.Sum();
        Array.Sort(images);
        return new LevelSummary(level, map.ClassCount, leaves[0], Median(leaves), leaves[^1], total, images[0], Median(images), images[^1]);
    }

    private static double Median(int[] sorted) => sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2.0;
    private static double Median(long[] sorted) => sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2.0;
}
