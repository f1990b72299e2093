using System.Text.Json.Serialization;
using Granularity.Core;
using Granularity.Runs;

namespace Granularity.Data;

/// <summary>
/// A dataset's manifest (data-manifests/NAME.json): where it comes from, its terms, the archives a user downloads with
/// sizes and md5 where published, how each split is extracted and indexed, and the label-order file of each model head.
/// Its file references (a split's labelOrder, labelOrders[].file) are relative to the manifest's own folder, so a manifest
/// kept beside its class list works from anywhere; its layout paths (extractTo, imageRoot) are relative to the prepared root.
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

    /// <summary>The manifest file it was read from.</summary>
    [JsonIgnore] public string SourcePath { get; private init; } = "";

    /// <summary>The folder of <see cref="SourcePath"/>: labelOrder and labelOrders[].file are relative to it.</summary>
    [JsonIgnore] public string Folder { get; private init; } = "";

    /// <summary>What the prepared root is, for messages about extractTo and imageRoot.</summary>
    public const string PreparedRootName = "the prepared root (the folder `data prepare --out` fills)";

    /// <summary>What the manifest's folder is, for messages about labelOrder and labelOrders[].file.</summary>
    public const string FolderName = "the manifest's folder";

    /// <summary>
    /// The full path of a file the manifest names (<paramref name="field"/>, its JSON path), under the manifest's folder;
    /// a path that leaves it is an error naming the field and the folder.
    /// </summary>
    public string ResolveFile(string relative, string field) => SafePath.Resolve(Folder, relative, SourcePath, field, FolderName);

    /// <summary>The full path of a layout folder (<paramref name="field"/>, its JSON path) under <paramref name="preparedRoot"/>.</summary>
    public string ResolveUnderPreparedRoot(string preparedRoot, string relative, string field) => SafePath.Resolve(preparedRoot, relative, SourcePath, field, PreparedRootName);

    /// <summary>The JSON path of a split's field, e.g. "$.splits[1].labelOrder".</summary>
    public string SplitField(ManifestSplit split, string field) => $"$.splits[{Splits.IndexOf(split)}].{field}";

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
        var full = Path.GetFullPath(path);
        return (ConfigFile.Read<DatasetManifest>(full) with { SourcePath = full, Folder = Path.GetDirectoryName(full)! }).Validated(full);
    }

    private DatasetManifest Validated(string path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Contained(string? relative, string field, string baseName)
        {
            if (relative is not null && !SafePath.IsContained(relative))
                throw new InputFormatException(path, field, $"'{relative}' must be a relative path that stays inside {baseName} (no '..' out of it, not absolute)");
        }
        var manifestFolder = $"{FolderName}, {Folder}";
        var fileFields = new List<(string Relative, string Field)>();
        for (int k = 0; k < Files.Count; k++) Contained(Files[k].ExtractTo, $"$.files[{k}].extractTo", PreparedRootName);
        for (int k = 0; k < Splits.Count; k++)
        {
            Contained(Splits[k].ImageRoot, $"$.splits[{k}].imageRoot", PreparedRootName);
            Contained(Splits[k].LabelOrder, $"$.splits[{k}].labelOrder", manifestFolder);
            if (Splits[k].LabelOrder is { } labelOrder) fileFields.Add((labelOrder, $"$.splits[{k}].labelOrder"));
        }
        for (int k = 0; k < LabelOrders.Count; k++)
        {
            Contained(LabelOrders[k].File, $"$.labelOrders[{k}].file", manifestFolder);
            fileFields.Add((LabelOrders[k].File, $"$.labelOrders[{k}].file"));
        }
        foreach (var (relative, field) in fileFields)
            if (ResolveFile(relative, field) is var resolved && !System.IO.File.Exists(resolved))
                throw new InputFormatException(path, field, $"'{relative}' is {resolved}, which does not exist (file references are relative to {manifestFolder})");
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
            if (split.Loader is not ("inat2021" or "imagenet1k" or "class-folders" or "omniglot-zip" or "cifar100-binary"))
                throw new InvalidDataException($"{path}: splits: '{split.Name}': loader must be inat2021, imagenet1k, class-folders, omniglot-zip or cifar100-binary, got '{split.Loader}'");
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
    public string ExtractTo { get; init; } = ".";     // folder relative to the prepared root
    public string? Description { get; init; }
}

/// <summary>A split: which archives it needs, how its index is built, and its expected size.</summary>
public sealed record ManifestSplit
{
    public required string Name { get; init; }
    public required List<string> Files { get; init; }
    public required string Loader { get; init; }      // inat2021 | imagenet1k | class-folders | omniglot-zip | cifar100-binary (read in memory, no index)
    public string ImageRoot { get; init; } = ".";      // class-folders: folder of WNID/ or WNID.tar, relative to the prepared root
    public string? LabelOrder { get; init; }           // file giving the category order, relative to the manifest's folder
    public long? Images { get; init; }
    public int? Classes { get; init; }
    public string? Layout { get; init; }
}

/// <summary>The class order a model head uses: output unit i is line/row i of File.</summary>
public sealed record LabelOrder
{
    public required string Head { get; init; }
    public required string File { get; init; }         // relative to the manifest's folder
    public required int Classes { get; init; }
    public required string Description { get; init; }
}
