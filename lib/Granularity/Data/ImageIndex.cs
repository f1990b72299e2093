using Granularity.Core;
using System.IO.Compression;
using System.Text;
using Granularity.Runs;

namespace Granularity.Data;

/// <summary>
/// The compact on-disk index of a prepared split (gzip'd binary: category names, folder table, then per image its
/// folder, file or tar-member name, tar data offset, byte size and category id). Coarser label ids are derived from the
/// category through a leafToLabel map, so one index serves every granularity. Written atomically.
/// </summary>
public static class ImageIndex
{
    private const string Magic = "GRANULARITY-INDEX";
    private const int Version = 1;

    /// <summary>The conventional index location of a split: <c>ROOT/index/SPLIT.gidx</c>.</summary>
    public static string DefaultPath(string root, string split) => Path.Combine(root, "index", split + ".gidx");

    public static void Write(ImageDataset dataset, string path)
    {
        var (folders, folderOf, names, offsets, byteSizes, categories) = dataset.Columns();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var rootRelative = Path.GetRelativePath(directory, Path.GetFullPath(dataset.Root));
        AtomicFile.Write(path, stream =>
        {
            using var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true);
            using var writer = new BinaryWriter(gzip, Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(dataset.Name);
            writer.Write(rootRelative);
            writer.Write7BitEncodedInt(dataset.CategoryCount);
            foreach (var category in dataset.CategoryNames) writer.Write(category);
            writer.Write7BitEncodedInt(folders.Length);
            foreach (var folder in folders) writer.Write(folder);
            writer.Write7BitEncodedInt(names.Length);
            for (int i = 0; i < names.Length; i++)
            {
                writer.Write7BitEncodedInt(folderOf[i]);
                writer.Write(names[i]);
                writer.Write7BitEncodedInt64(offsets[i] + 1);
                writer.Write7BitEncodedInt(byteSizes[i]);
                writer.Write7BitEncodedInt(categories[i]);
            }
        });
    }

    /// <summary>Reads an index; the image root is resolved relative to the index file, so a prepared folder can move.</summary>
    public static ImageDataset Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: index not found; build it with `granularity data index` (data-manifests/README.md)", path);
        try
        {
            using var stream = File.OpenRead(path);
            using var gzip = new GZipStream(stream, CompressionMode.Decompress);
            using var reader = new BinaryReader(new BufferedStream(gzip, 1 << 16), Encoding.UTF8);
            var magic = reader.ReadString();
            if (magic != Magic) throw new InvalidDataException($"{path}: not a Granularity index (header '{magic}')");
            var version = reader.ReadInt32();
            if (version != Version) throw new InvalidDataException($"{path}: index version {version}, expected {Version}; rebuild it with `granularity data index`");
            var name = reader.ReadString();
            var root = Path.GetFullPath(reader.ReadString(), Path.GetDirectoryName(Path.GetFullPath(path))!);
            // Counts come from the file: arrays grow as entries arrive, so a damaged count cannot demand gigabytes up front.
            int Count(string what, int limit)
            {
                var value = reader.Read7BitEncodedInt();
                return value >= 0 && value <= limit ? value : throw new InvalidDataException($"{path}: {what} count {value} is outside [0, {limit:N0}]");
            }
            string Relative(string text, string what) =>
                SafePath.IsContained(text) ? text : throw new InvalidDataException($"{path}: {what} '{text}' is not a relative path inside the dataset root");
            var categoryNames = new string[Count("category", 1 << 22)];
            for (int i = 0; i < categoryNames.Length; i++) categoryNames[i] = reader.ReadString();
            var folders = new List<string>();
            for (int i = 0, n = Count("folder", 1 << 26); i < n; i++)
            {
                var folder = reader.ReadString();
                folders.Add(folder.Length == 0 ? folder : Relative(folder, "folder"));
            }
            int count = Count("image", int.MaxValue);
            var folderOf = new List<int>(Math.Min(count, 1 << 20));
            var names = new List<string>(Math.Min(count, 1 << 20));
            var offsets = new List<long>(Math.Min(count, 1 << 20));
            var byteSizes = new List<int>(Math.Min(count, 1 << 20));
            var categories = new List<int>(Math.Min(count, 1 << 20));
            for (int i = 0; i < count; i++)
            {
                var folder = reader.Read7BitEncodedInt();
                var imageName = reader.ReadString();
                var offset = reader.Read7BitEncodedInt64() - 1;
                var byteSize = reader.Read7BitEncodedInt();
                var category = reader.Read7BitEncodedInt();
                if (folder < 0 || folder >= folders.Count || category < 0 || category >= categoryNames.Length || offset < -1 || byteSize < 0)
                    throw new InvalidDataException($"{path}: image entry {i} is out of range (folder {folder} of {folders.Count}, category {category} of {categoryNames.Length}, offset {offset}, {byteSize} bytes)");
                folderOf.Add(folder);
                names.Add(Relative(imageName, "image"));
                offsets.Add(offset);
                byteSizes.Add(byteSize);
                categories.Add(category);
            }
            return new ImageDataset(name, root, categoryNames, folders.ToArray(), folderOf.ToArray(), names.ToArray(), offsets.ToArray(), byteSizes.ToArray(), categories.ToArray());
        }
        catch (Exception error) when (error is EndOfStreamException or InvalidDataException or FormatException or OverflowException or ArgumentException && error is not FileNotFoundException && !error.Message.StartsWith(path))
        {
            throw new InvalidDataException($"{path}: truncated or corrupt index ({error.Message}); rebuild it with `granularity data index`", error);
        }
    }
}
