using Granularity.Core;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Granularity.Data;

/// <summary>
/// iNaturalist 2021 (COCO-style annotation JSON + image folders): train, train_mini, val. Category ids follow the
/// annotation file's category ids (0..9,999), the label order of data-manifests/hierarchies/inat2021-categories.csv.
/// </summary>
public static class INat2021
{
    public static readonly string[] Splits = { "train", "train_mini", "val" };

    private sealed record CocoFile(
        [property: JsonPropertyName("images")] List<CocoImage>? Images,
        [property: JsonPropertyName("annotations")] List<CocoAnnotation>? Annotations,
        [property: JsonPropertyName("categories")] List<CocoCategory>? Categories);
    private sealed record CocoImage([property: JsonPropertyName("id")] long Id, [property: JsonPropertyName("file_name")] string? FileName);
    private sealed record CocoAnnotation([property: JsonPropertyName("id")] long Id, [property: JsonPropertyName("image_id")] long ImageId, [property: JsonPropertyName("category_id")] long CategoryId);
    private sealed record CocoCategory([property: JsonPropertyName("id")] long Id, [property: JsonPropertyName("name")] string? Name);

    /// <summary>
    /// Reads <c>ROOT/SPLIT.json</c> (image paths are relative to ROOT, e.g. <c>train_mini/00000_…/uuid.jpg</c>).
    /// With <paramref name="checkFiles"/> each image file must exist and its size is recorded (index building);
    /// without it sizes are 0 and missing files surface when loading. An annotation naming a category absent from the
    /// categories list, an image without an annotation, or an annotation of an unknown image is a clear error.
    /// </summary>
    public static ImageDataset Load(string root, string split, bool checkFiles = true, string? annotationPath = null)
    {
        if (!Splits.Contains(split)) throw new ArgumentException($"iNat2021 split must be one of {string.Join(", ", Splits)}, got '{split}'", nameof(split));
        annotationPath ??= Path.Combine(root, split + ".json");
        if (!File.Exists(annotationPath))
            throw new FileNotFoundException($"{annotationPath}: iNat2021 annotation file not found; run `granularity data prepare --dataset inat2021` (data-manifests/inat2021.md)", annotationPath);
        CocoFile coco;
        try
        {
            using var stream = new FileStream(annotationPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            coco = JsonSerializer.Deserialize<CocoFile>(stream) ?? throw new InvalidDataException($"{annotationPath}: empty JSON");
        }
        catch (JsonException error)
        {
            throw new InvalidDataException($"{annotationPath}: line {error.LineNumber + 1}: not a COCO-style annotation file: {error.Message}", error);
        }
        catch (Exception error) when (error is InvalidOperationException or NotSupportedException)
        {
            throw new InvalidDataException($"{annotationPath}: not a COCO-style annotation file: {error.Message}", error);
        }
        var categories = coco.Categories ?? throw new InvalidDataException($"{annotationPath}: no 'categories' array");
        var images = coco.Images ?? throw new InvalidDataException($"{annotationPath}: no 'images' array");
        var annotations = coco.Annotations ?? throw new InvalidDataException($"{annotationPath}: no 'annotations' array");

        // Category id order is the label order; ids must be exactly 0..C−1 as in the official files.
        var ordered = categories.OrderBy(c => c.Id).ToList();
        for (int i = 0; i < ordered.Count; i++)
            if (ordered[i].Id != i) throw new InvalidDataException($"{annotationPath}: categories: expected ids 0..{ordered.Count - 1}, id {i} is missing (found {ordered[i].Id})");
        var names = ordered.Select(c => c.Name ?? c.Id.ToString(CultureInfo.InvariantCulture)).ToArray();

        var categoryOfImage = new Dictionary<long, int>(annotations.Count);
        for (int a = 0; a < annotations.Count; a++)
        {
            var annotation = annotations[a];
            if (annotation.CategoryId < 0 || annotation.CategoryId >= names.Length)
                throw new InvalidDataException($"{annotationPath}: annotations[{a}] (id {annotation.Id}, image {annotation.ImageId}) names category {annotation.CategoryId}, which is not among the {names.Length} categories");
            if (!categoryOfImage.TryAdd(annotation.ImageId, (int)annotation.CategoryId))
                throw new InvalidDataException($"{annotationPath}: annotations[{a}]: image {annotation.ImageId} has more than one annotation");
        }
        var builder = new ImageDatasetBuilder($"inat2021/{split}", Path.GetFullPath(root), names);
        var imageIds = new HashSet<long>();
        for (int i = 0; i < images.Count; i++)
        {
            var image = images[i];
            if (string.IsNullOrEmpty(image.FileName)) throw new InvalidDataException($"{annotationPath}: images[{i}] (id {image.Id}) has no file_name");
            if (image.FileName.StartsWith('/') || image.FileName.Split('/').Contains(".."))
                throw new InvalidDataException($"{annotationPath}: images[{i}] file_name '{image.FileName}' must be a relative path inside the dataset folder");
            if (!categoryOfImage.TryGetValue(image.Id, out var category))
                throw new InvalidDataException($"{annotationPath}: images[{i}] (id {image.Id}, {image.FileName}) has no annotation");
            imageIds.Add(image.Id);
            long bytes = 0;
            if (checkFiles)
            {
                var info = new FileInfo(Path.Combine(root, image.FileName));
                if (!info.Exists) throw new FileNotFoundException($"{info.FullName}: image listed in {annotationPath} (images[{i}]) is missing", info.FullName);
                bytes = info.Length;
            }
            builder.AddFile(image.FileName, bytes, category);
        }
        var orphan = categoryOfImage.Keys.FirstOrDefault(id => !imageIds.Contains(id), long.MinValue);
        if (orphan != long.MinValue) throw new InvalidDataException($"{annotationPath}: an annotation refers to image {orphan}, which is not in 'images'");
        return builder.Build();
    }
}

/// <summary>ImageNet class lists (label order files of data-manifests/hierarchies).</summary>
public static class ImageNetClasses
{
    /// <summary>Reads wnids, one per line (blank lines and '#' comments ignored), or the first wnid-looking column of a TSV/CSV.</summary>
    public static string[] ReadWnids(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: class list not found", path);
        var wnids = new List<string>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;
            var wnid = trimmed.Split('\t', ',', ' ').FirstOrDefault(IsWnid);
            if (wnid is null)
            {
                if (lineNumber == 1) continue; // a header row
                throw new InvalidDataException($"{path}:{lineNumber}: expected a WordNet id like n01440764, got '{trimmed}'");
            }
            wnids.Add(wnid);
        }
        var duplicate = wnids.GroupBy(w => w).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidDataException($"{path}: wnid {duplicate.Key} appears more than once");
        return wnids.ToArray();
    }

    public static bool IsWnid(string text) => text.Length == 9 && text[0] == 'n' && text.Skip(1).All(char.IsAsciiDigit);

    /// <summary>The ImageNet-1k list ('#' comments, a header, then index, wnid, ILSVRC2012 id, …): wnids in training index order and the ILSVRC2012 id → index map.</summary>
    public static (string[] Wnids, Dictionary<int, int> IndexOfIlsvrcId) ReadImageNet1k(string tsvPath)
    {
        if (!File.Exists(tsvPath)) throw new FileNotFoundException($"{tsvPath}: ImageNet-1k class list not found", tsvPath);
        var wnids = new List<string>();
        var byIlsvrc = new Dictionary<int, int>();
        int lineNumber = 0;
        bool header = true;
        foreach (var line in File.ReadLines(tsvPath))
        {
            lineNumber++;
            if (line.StartsWith('#') || line.Trim().Length == 0) continue;
            if (header) { header = false; continue; }
            var fields = line.Split('\t');
            if (fields.Length < 3 || !int.TryParse(fields[0], out var index) || index != wnids.Count || !IsWnid(fields[1]) || !int.TryParse(fields[2], out var ilsvrc))
                throw new InvalidDataException($"{tsvPath}:{lineNumber}: expected 'index<TAB>wnid<TAB>ilsvrc2012_id…' with index {wnids.Count}, got '{line}'");
            wnids.Add(fields[1]);
            byIlsvrc[ilsvrc] = index;
        }
        return (wnids.ToArray(), byIlsvrc);
    }
}

/// <summary>Datasets laid out as one folder or one uncompressed tar per class (ImageNet-1k train, ImageNet-21k, ImageNet-21K-P).</summary>
public static class ClassFolders
{
    private static readonly string[] ImageExtensions = { ".jpeg", ".jpg", ".png" };

    public static bool IsImageFile(string path) => ImageExtensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>
    /// Scans <paramref name="root"/> for <c>WNID/</c> folders and <c>WNID.tar</c> files (read in place), labelling each
    /// image by its class's position in <paramref name="classOrder"/>. A class on disk that is not in the list is an error
    /// naming it; classes of the list absent on disk are returned in <c>Missing</c>.
    /// </summary>
    public static (ImageDataset Dataset, List<string> Missing) Load(string name, string root, IReadOnlyList<string> classOrder, Action<int, int>? progress = null, HostileEntries? hostile = null)
    {
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"{root}: dataset folder not found (data-manifests/README.md says how to prepare it)");
        var indexOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < classOrder.Count; i++) indexOf[classOrder[i]] = i;
        var entries = new SortedDictionary<string, (bool IsTar, string Path)>(StringComparer.Ordinal);
        foreach (var directory in Directory.EnumerateDirectories(root))
        {
            var className = Path.GetFileName(directory);
            if (className is "index" || className.StartsWith('.')) continue;
            entries[className] = (false, directory);
        }
        foreach (var tar in Directory.EnumerateFiles(root, "*.tar"))
        {
            var className = Path.GetFileNameWithoutExtension(tar);
            if (entries.ContainsKey(className)) throw new InvalidDataException($"{root}: class {className} is present both as a folder and as {tar}; keep one");
            entries[className] = (true, tar);
        }
        foreach (var className in entries.Keys)
            if (!indexOf.ContainsKey(className))
                throw new InvalidDataException($"{entries[className].Path}: class '{className}' is not in the label order ({classOrder.Count} classes); wrong class list or a stray file");
        var builder = new ImageDatasetBuilder(name, Path.GetFullPath(root), classOrder);
        int done = 0;
        foreach (var (className, (isTar, path)) in entries)
        {
            int category = indexOf[className];
            if (isTar)
            {
                foreach (var member in TarArchives.ListMembers(path, hostile).Where(m => IsImageFile(m.Name)).OrderBy(m => m.Name, StringComparer.Ordinal))
                    builder.AddTarMember(Path.GetFileName(path), member.Name, member.DataOffset, member.Length, category);
            }
            else
            {
                foreach (var file in Directory.EnumerateFiles(path).Where(IsImageFile).Order(StringComparer.Ordinal))
                    builder.AddFile(Path.Combine(className, Path.GetFileName(file)), new FileInfo(file).Length, category);
            }
            progress?.Invoke(++done, entries.Count);
        }
        var missing = classOrder.Where(c => !entries.ContainsKey(c)).ToList();
        return (builder.Build(), missing);
    }
}

/// <summary>ImageNet-1k (ILSVRC2012): train as class folders or per-class tars; val as class folders or flat with the devkit's labels.</summary>
public static class ImageNet1k
{
    /// <summary>
    /// <c>ROOT/train/</c> (WNID folders or WNID.tar) or <c>ROOT/val/</c>. A flat val folder is labelled from
    /// <c>ILSVRC2012_validation_ground_truth.txt</c> (devkit; ILSVRC2012 ids per line, image i on line i) or
    /// <c>LOC_val_solution.csv</c> (Kaggle) found under ROOT. Labels follow <paramref name="classListTsv"/> (the
    /// standard training index order, data-manifests/hierarchies/imagenet1k-classes.tsv).
    /// </summary>
    public static ImageDataset Load(string root, string split, string classListTsv)
    {
        if (split is not ("train" or "val")) throw new ArgumentException($"ImageNet-1k split must be train or val, got '{split}'", nameof(split));
        var (wnids, indexOfIlsvrc) = ImageNetClasses.ReadImageNet1k(classListTsv);
        var folder = Path.Combine(root, split);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: ImageNet-1k {split} folder not found; run `granularity data prepare --dataset imagenet1k` (data-manifests/imagenet1k.md)");
        bool flat = split == "val" && Directory.EnumerateFiles(folder).Any(IsImage);
        if (!flat)
        {
            var (dataset, missing) = ClassFolders.Load($"imagenet1k/{split}", folder, wnids);
            if (missing.Count > 0) throw new InvalidDataException($"{folder}: {missing.Count} of 1000 classes missing (first: {missing[0]})");
            return dataset;
        }
        var labels = ReadValidationLabels(root, wnids, indexOfIlsvrc);
        var builder = new ImageDatasetBuilder($"imagenet1k/{split}", Path.GetFullPath(folder), wnids);
        foreach (var file in Directory.EnumerateFiles(folder).Where(IsImage).Order(StringComparer.Ordinal))
        {
            var stem = Path.GetFileNameWithoutExtension(file);
            if (!labels.TryGetValue(stem, out var category))
                throw new InvalidDataException($"{file}: no validation label for {stem}");
            builder.AddFile(Path.GetFileName(file), new FileInfo(file).Length, category);
        }
        return builder.Build();

        static bool IsImage(string path) => ClassFolders.IsImageFile(path);
    }

    private static Dictionary<string, int> ReadValidationLabels(string root, string[] wnids, Dictionary<int, int> indexOfIlsvrc)
    {
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        var groundTruth = Directory.EnumerateFiles(root, "ILSVRC2012_validation_ground_truth.txt", SearchOption.AllDirectories).FirstOrDefault();
        if (groundTruth is not null)
        {
            int lineNumber = 0;
            foreach (var line in File.ReadLines(groundTruth))
            {
                lineNumber++;
                if (!int.TryParse(line.Trim(), out var ilsvrc) || !indexOfIlsvrc.TryGetValue(ilsvrc, out var index))
                    throw new InvalidDataException($"{groundTruth}:{lineNumber}: expected an ILSVRC2012 class id in 1..1000, got '{line}'");
                labels[$"ILSVRC2012_val_{lineNumber:D8}"] = index;
            }
            return labels;
        }
        var solution = Directory.EnumerateFiles(root, "LOC_val_solution.csv", SearchOption.AllDirectories).FirstOrDefault()
            ?? throw new FileNotFoundException($"{root}: flat val folder but neither ILSVRC2012_validation_ground_truth.txt (devkit) nor LOC_val_solution.csv found");
        var indexOf = wnids.Select((w, i) => (w, i)).ToDictionary(p => p.w, p => p.i);
        int row = 0;
        foreach (var line in File.ReadLines(solution))
        {
            if (row++ == 0) continue;
            var fields = line.Split(',');
            var wnid = fields.Length > 1 ? fields[1].Split(' ').FirstOrDefault() : null;
            if (wnid is null || !indexOf.TryGetValue(wnid, out var index))
                throw new InvalidDataException($"{solution}:{row}: expected 'ImageId,PredictionString' with a known wnid first, got '{line}'");
            labels[fields[0]] = index;
        }
        return labels;
    }
}

/// <summary>ImageNet-21k (fall11 / winter21 per-synset tars or folders) and ImageNet-21K-P (class folders).</summary>
public static class ImageNet21k
{
    /// <summary>
    /// Loads <paramref name="root"/> holding <c>WNID.tar</c> files (read in place) and/or <c>WNID/</c> folders, labelled
    /// by the class list <paramref name="classListPath"/> (Google's 21,843 wnids by default in the manifests; 21K-P uses
    /// its own 11,221 / 10,450 lists). Classes of the list absent on disk (winter21 lacks ~2,700) are returned in Missing.
    /// </summary>
    public static (ImageDataset Dataset, List<string> Missing) Load(string root, string classListPath, string name = "imagenet21k", Action<int, int>? progress = null, HostileEntries? hostile = null)
    {
        var wnids = ImageNetClasses.ReadWnids(classListPath);
        return ClassFolders.Load(name, root, wnids, progress, hostile);
    }
}
