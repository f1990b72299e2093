using Granularity.Core;
using Granularity.Runs;

namespace Granularity.Data;

/// <summary>
/// A dataset's manifest (data-manifests/NAME.json): where it comes from, its terms, the archives a user downloads with
/// sizes and md5 where published, how each split is extracted and indexed, and the label-order file of each model head.
/// </summary>
public sealed record DatasetManifest
{
    public required string Name { get; init; }
    public required string Title { get; init; }
    public required string Homepage { get; init; }
    public required string Source { get; init; }
    public required string TermsOfUse { get; init; }
    public string? Citation { get; init; }
    public required List<ManifestFile> Files { get; init; }
    public required List<ManifestSplit> Splits { get; init; }
    public required List<LabelOrder> LabelOrders { get; init; }
    public List<string> Notes { get; init; } = new();

    /// <summary>Reads data-manifests/<paramref name="nameOrPath"/>.json (or a path to a manifest) and checks its fields.</summary>
    public static DatasetManifest Load(string nameOrPath)
    {
        var path = nameOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? nameOrPath : Path.Combine(ProjectPaths.ManifestsRoot, nameOrPath + ".json");
        if (!System.IO.File.Exists(path))
        {
            var known = Directory.Exists(ProjectPaths.ManifestsRoot)
                ? string.Join(", ", Directory.EnumerateFiles(ProjectPaths.ManifestsRoot, "*.json").Select(Path.GetFileNameWithoutExtension).Order())
                : "(no data-manifests folder)";
            throw new FileNotFoundException($"{path}: no manifest for '{nameOrPath}'; known datasets: {known}", path);
        }
        return ConfigFile.Read<DatasetManifest>(path).Validated(path);
    }

    private DatasetManifest Validated(string path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Contained(string? relative, string field)
        {
            if (relative is not null && !SafePath.IsContained(relative))
                throw new InputFormatException(path, field, $"'{relative}' must be a relative path that stays inside the prepared root (no '..' out of it, not absolute)");
        }
        for (int k = 0; k < Files.Count; k++) Contained(Files[k].ExtractTo, $"$.files[{k}].extractTo");
        for (int k = 0; k < Splits.Count; k++) { Contained(Splits[k].ImageRoot, $"$.splits[{k}].imageRoot"); Contained(Splits[k].LabelOrder, $"$.splits[{k}].labelOrder"); }
        for (int k = 0; k < LabelOrders.Count; k++) Contained(LabelOrders[k].File, $"$.labelOrders[{k}].file");
        foreach (var file in Files)
        {
            if (string.IsNullOrWhiteSpace(file.Name) || file.Name.Contains('/') || file.Name.Contains('\\') || file.Name.Contains("..") || !SafePath.IsContained(file.Name))
                throw new InvalidDataException($"{path}: files: '{file.Name}' must be a plain file name");
            if (!names.Add(file.Name)) throw new InvalidDataException($"{path}: files: '{file.Name}' listed twice");
            if (file.Md5 is { } md5 && (md5.Length != 32 || !md5.All(Uri.IsHexDigit)))
                throw new InvalidDataException($"{path}: files: '{file.Name}': md5 must be 32 hex digits, got '{md5}'");
            if (file.Extract is not ("tar" or "tar.gz" or "none"))
                throw new InvalidDataException($"{path}: files: '{file.Name}': extract must be tar, tar.gz or none, got '{file.Extract}'");
        }
        foreach (var split in Splits)
        {
            foreach (var file in split.Files)
                if (!names.Contains(file)) throw new InvalidDataException($"{path}: splits: '{split.Name}' needs file '{file}', which is not in 'files'");
            if (split.Loader is not ("inat2021" or "imagenet1k" or "class-folders"))
                throw new InvalidDataException($"{path}: splits: '{split.Name}': loader must be inat2021, imagenet1k or class-folders, got '{split.Loader}'");
        }
        return this;
    }

    public ManifestSplit Split(string name) => Splits.FirstOrDefault(s => s.Name == name)
        ?? throw new ArgumentException($"{Name} has no split '{name}'; splits: {string.Join(", ", Splits.Select(s => s.Name))}");

    public ManifestFile File(string name) => Files.First(f => f.Name == name);
}

/// <summary>One downloadable archive: exact size and md5 when published (null otherwise), and where it is extracted.</summary>
public sealed record ManifestFile
{
    public required string Name { get; init; }
    public long? Bytes { get; init; }                 // exact size in bytes, when published
    public string? ApproximateSize { get; init; }     // as published, e.g. "224 GB"
    public string? Md5 { get; init; }
    public string? Url { get; init; }                 // public URL; null where access needs accepting terms
    public required string Extract { get; init; }     // tar | tar.gz | none
    public string ExtractTo { get; init; } = ".";     // folder under the prepared root
    public string? Description { get; init; }
}

/// <summary>A split: which archives it needs, how its index is built, and its expected size.</summary>
public sealed record ManifestSplit
{
    public required string Name { get; init; }
    public required List<string> Files { get; init; }
    public required string Loader { get; init; }      // inat2021 | imagenet1k | class-folders
    public string ImageRoot { get; init; } = ".";      // class-folders: folder of WNID/ or WNID.tar, under the prepared root
    public string? LabelOrder { get; init; }           // file under data-manifests/ giving the category order
    public long? Images { get; init; }
    public int? Classes { get; init; }
    public string? Layout { get; init; }
}

/// <summary>The class order a model head uses: output unit i is line/row i of File.</summary>
public sealed record LabelOrder
{
    public required string Head { get; init; }
    public required string File { get; init; }         // under data-manifests/
    public required int Classes { get; init; }
    public required string Description { get; init; }
}
