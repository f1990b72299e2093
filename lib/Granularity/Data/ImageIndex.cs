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
            var categoryNames = new string[reader.Read7BitEncodedInt()];
            for (int i = 0; i < categoryNames.Length; i++) categoryNames[i] = reader.ReadString();
            var folders = new string[reader.Read7BitEncodedInt()];
            for (int i = 0; i < folders.Length; i++) folders[i] = reader.ReadString();
            int count = reader.Read7BitEncodedInt();
            var folderOf = new int[count];
            var names = new string[count];
            var offsets = new long[count];
            var byteSizes = new int[count];
            var categories = new int[count];
            for (int i = 0; i < count; i++)
            {
                folderOf[i] = reader.Read7BitEncodedInt();
                names[i] = reader.ReadString();
                offsets[i] = reader.Read7BitEncodedInt64() - 1;
                byteSizes[i] = reader.Read7BitEncodedInt();
                categories[i] = reader.Read7BitEncodedInt();
            }
            return new ImageDataset(name, root, categoryNames, folders, folderOf, names, offsets, byteSizes, categories);
        }
        catch (Exception error) when (error is EndOfStreamException or InvalidDataException && error is not FileNotFoundException && !error.Message.StartsWith(path))
        {
            throw new InvalidDataException($"{path}: truncated or corrupt index ({error.Message}); rebuild it with `granularity data index`", error);
        }
    }
}
