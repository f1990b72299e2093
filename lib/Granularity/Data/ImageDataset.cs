namespace Granularity.Data;

/// <summary>
/// The images of one dataset split: where each image's bytes are (a file, or a byte range inside a tar read in place),
/// its size in bytes and its category (the finest label; coarser labels come from a <c>leafToLabel</c> map), plus the
/// category names in label order. Stored column-wise with shared folder strings so millions of images stay compact.
/// </summary>
public sealed class ImageDataset
{
    private readonly string[] folders;
    private readonly int[] folderOf;
    private readonly string[] names;
    private readonly long[] offsets;
    private readonly int[] byteSizes;
    private readonly int[] categories;

    public ImageDataset(string name, string root, IReadOnlyList<string> categoryNames, string[] folders, int[] folderOf, string[] names, long[] offsets, int[] byteSizes, int[] categories)
    {
        int n = names.Length;
        if (folderOf.Length != n || offsets.Length != n || byteSizes.Length != n || categories.Length != n)
            throw new ArgumentException("image columns differ in length");
        for (int i = 0; i < n; i++)
        {
            if ((uint)folderOf[i] >= (uint)folders.Length) throw new ArgumentException($"image {i} ({names[i]}) refers to folder {folderOf[i]} of {folders.Length}");
            if ((uint)categories[i] >= (uint)categoryNames.Count) throw new ArgumentException($"image {i} ({names[i]}) has category {categories[i]}, outside [0, {categoryNames.Count})");
        }
        Name = name;
        Root = root;
        CategoryNames = categoryNames;
        this.folders = folders;
        this.folderOf = folderOf;
        this.names = names;
        this.offsets = offsets;
        this.byteSizes = byteSizes;
        this.categories = categories;
    }

    /// <summary>e.g. "inat2021/train_mini".</summary>
    public string Name { get; }

    /// <summary>The folder that relative image paths start from.</summary>
    public string Root { get; }

    /// <summary>Category (leaf) names in label order: category id i is CategoryNames[i].</summary>
    public IReadOnlyList<string> CategoryNames { get; }

    public int Count => names.Length;
    public int CategoryCount => CategoryNames.Count;

    /// <summary>The category (finest label id) of image <paramref name="index"/>.</summary>
    public int CategoryOf(int index) => categories[index];

    public IReadOnlyList<int> Categories => categories;

    /// <summary>Bytes of the encoded image (the file size, or the member size inside a tar).</summary>
    public int ByteSizeOf(int index) => byteSizes[index];

    /// <summary>A readable name for messages: the path, or "tar:member" for images read in place.</summary>
    public string DisplayPathOf(int index) => offsets[index] < 0
        ? Path.Combine(Root, folders[folderOf[index]], names[index])
        : $"{Path.Combine(Root, folders[folderOf[index]])}:{names[index]}";

    /// <summary>
    /// The image's key relative to the dataset root — "folder/name", or "folder/WNID.tar:member" for an image read in place
    /// from a tar — the same wherever the prepared folder lives (de-duplication lists name images by it).
    /// </summary>
    public string KeyOf(int index) => offsets[index] < 0
        ? Path.Combine(folders[folderOf[index]], names[index]).Replace('\\', '/')
        : $"{folders[folderOf[index]].Replace('\\', '/')}:{names[index]}";

    /// <summary>The image's location: file path, offset of its bytes in that file (0 for a whole file) and length.</summary>
    public (string File, long Offset, int Length, bool Whole) Location(int index) => offsets[index] < 0
        ? (Path.Combine(Root, folders[folderOf[index]], names[index]), 0, byteSizes[index], true)
        : (Path.Combine(Root, folders[folderOf[index]]), offsets[index], byteSizes[index], false);

    /// <summary>Reads the encoded bytes of image <paramref name="index"/> into <paramref name="buffer"/> (grown as needed); returns the length.</summary>
    public int ReadBytes(int index, ref byte[] buffer)
    {
        var (file, offset, length, whole) = Location(index);
        try
        {
            using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.None);
            if (whole) length = checked((int)RandomAccess.GetLength(handle));
            if (buffer.Length < length) buffer = new byte[Math.Max(length, buffer.Length * 5 / 4)];
            int total = 0;
            while (total < length)
            {
                int read = RandomAccess.Read(handle, buffer.AsSpan(total, length - total), offset + total);
                if (read == 0) throw new BadImageException(DisplayPathOf(index), $"file ends after {total} of {length} bytes");
                total += read;
            }
            return total;
        }
        catch (FileNotFoundException) { throw new BadImageException(DisplayPathOf(index), "missing file"); }
        catch (DirectoryNotFoundException) { throw new BadImageException(DisplayPathOf(index), "missing file (folder not found)"); }
    }

    /// <summary>Per-image labels at a granularity: <c>leafToLabel[category]</c> for every image.</summary>
    public int[] LabelsFrom(int[] leafToLabel)
    {
        if (leafToLabel.Length != CategoryCount)
            throw new ArgumentException($"leafToLabel has {leafToLabel.Length} entries; {Name} has {CategoryCount} categories", nameof(leafToLabel));
        var labels = new int[Count];
        for (int i = 0; i < Count; i++) labels[i] = leafToLabel[categories[i]];
        return labels;
    }

    /// <summary>The images whose index satisfies <paramref name="keep"/> (e.g. a class subset for Quick mode), same category order.</summary>
    public ImageDataset Subset(Func<int, bool> keep, string? name = null)
    {
        var chosen = Enumerable.Range(0, Count).Where(keep).ToArray();
        return new ImageDataset(name ?? Name, Root, CategoryNames, folders,
            chosen.Select(i => folderOf[i]).ToArray(), chosen.Select(i => names[i]).ToArray(), chosen.Select(i => offsets[i]).ToArray(),
            chosen.Select(i => byteSizes[i]).ToArray(), chosen.Select(i => categories[i]).ToArray());
    }

    internal (string[] Folders, int[] FolderOf, string[] Names, long[] Offsets, int[] ByteSizes, int[] Categories) Columns() =>
        (folders, folderOf, names, offsets, byteSizes, categories);
}

/// <summary>Accumulates images (grouping repeated folders) and builds an <see cref="ImageDataset"/>.</summary>
public sealed class ImageDatasetBuilder(string name, string root, IReadOnlyList<string> categoryNames)
{
    private readonly Dictionary<string, int> folderIds = new(StringComparer.Ordinal);
    private readonly List<string> folders = new();
    private readonly List<int> folderOf = new();
    private readonly List<string> names = new();
    private readonly List<long> offsets = new();
    private readonly List<int> byteSizes = new();
    private readonly List<int> categories = new();

    public int Count => names.Count;

    /// <summary>Adds a whole file, <paramref name="relativePath"/> under the root.</summary>
    public void AddFile(string relativePath, long byteSize, int category)
    {
        var folder = Path.GetDirectoryName(relativePath) ?? "";
        Add(folder, Path.GetFileName(relativePath), -1, byteSize, category, relativePath);
    }

    /// <summary>Adds a member of a tar read in place: the tar's path under the root, the member name, and its data range.</summary>
    public void AddTarMember(string relativeTarPath, string member, long dataOffset, long byteSize, int category) =>
        Add(relativeTarPath, member, dataOffset, byteSize, category, $"{relativeTarPath}:{member}");

    private void Add(string folder, string fileName, long offset, long byteSize, int category, string display)
    {
        if (byteSize > int.MaxValue) throw new InvalidDataException($"{display}: {byteSize} bytes is too large for an image");
        if ((uint)category >= (uint)categoryNames.Count) throw new InvalidDataException($"{display}: category {category} outside [0, {categoryNames.Count})");
        if (!folderIds.TryGetValue(folder, out var id)) { id = folders.Count; folders.Add(folder); folderIds.Add(folder, id); }
        folderOf.Add(id);
        names.Add(fileName);
        offsets.Add(offset);
        byteSizes.Add((int)byteSize);
        categories.Add(category);
    }

    public ImageDataset Build() => new(name, root, categoryNames, folders.ToArray(), folderOf.ToArray(), names.ToArray(), offsets.ToArray(), byteSizes.ToArray(), categories.ToArray());
}
