using Granularity.Core;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Granularity.Runs;

namespace Granularity.Experiments;

/// <summary>Image embeddings for cluster labels: one row per training image, in the annotation file's image order.</summary>
public sealed record ImageEmbeddings(string Path, int Rows, int Dimension, float[] Values);

/// <summary>
/// The embedding file format the iNat2021 experiment accepts (the paper used CLIP ViT-L/14 embeddings, which we cannot ship):
/// a NumPy <c>.npy</c> file (format 1.0/2.0/3.0), dtype float32 (<c>&lt;f4</c>) or float16 (<c>&lt;f2</c>), C order, shape
/// (images, dimensions), where row i belongs to entry i of the <c>images</c> array of <c>train_mini.json</c>. An optional
/// sidecar <c>NAME.files.txt</c> lists each row's <c>file_name</c>, one per line, and is checked when present.
/// Write one in Python with <c>np.save("clip.npy", embeddings.astype(np.float32))</c>.
/// </summary>
public static class EmbeddingFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>The sidecar that lists each row's image file name.</summary>
    public static string SidecarPath(string path) => System.IO.Path.ChangeExtension(path, null) + ".files.txt";

    /// <summary>Reads and validates an embedding file against the training images it must describe; errors name the file and what is wrong.</summary>
    public static ImageEmbeddings Read(string path, IReadOnlyList<string> imageFileNames, string what = "train_mini")
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: embedding file not found", path);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        var magic = reader.ReadBytes(6);
        if (magic.Length < 6 || !magic.SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a NumPy .npy file (it must start with \\x93NUMPY); save embeddings with numpy.save");
        int major = reader.ReadByte(), minor = reader.ReadByte();
        if (major is < 1 or > 3) throw new InvalidDataException($"{path}: .npy format version {major}.{minor} is not supported (1.0, 2.0 or 3.0)");
        long headerLength = major == 1 ? reader.ReadUInt16() : reader.ReadUInt32();
        var header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(reader.ReadBytes((int)headerLength));
        string Field(string name)
        {
            var match = Regex.Match(header, $@"'{name}'\s*:\s*('[^']*'|True|False|\([^)]*\))");
            return match.Success ? match.Groups[1].Value : throw new InvalidDataException($"{path}: .npy header has no '{name}' field: {header.Trim()}");
        }
        var descr = Field("descr").Trim('\'');
        if (descr is not ("<f4" or "<f2" or "|f2"))
            throw new InvalidDataException($"{path}: dtype '{descr}' is not supported; save float32 ('<f4') or float16 ('<f2'), e.g. embeddings.astype(np.float32)");
        if (Field("fortran_order") != "False")
            throw new InvalidDataException($"{path}: the array is in Fortran order; save a C-ordered array (np.ascontiguousarray(embeddings))");
        var shape = Field("shape").Trim('(', ')').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => long.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        if (shape.Length != 2) throw new InvalidDataException($"{path}: shape ({string.Join(", ", shape)}) must be 2-D: (images, dimensions)");
        if (shape[0] != imageFileNames.Count)
            throw new InvalidDataException($"{path}: {shape[0]:N0} rows, but {what} has {imageFileNames.Count:N0} images (row i must be images[i] of {what}.json)");
        if (shape[1] is < 1 or > 65536) throw new InvalidDataException($"{path}: {shape[1]} dimensions; expected 1 to 65,536");
        int rows = (int)shape[0], dimension = (int)shape[1];
        int width = descr == "<f4" ? 4 : 2;
        long expected = (long)rows * dimension * width, available = stream.Length - stream.Position;
        if (available < expected) throw new InvalidDataException($"{path}: truncated: the shape needs {expected:N0} data bytes, the file holds {available:N0}");
        var values = new float[(long)rows * dimension];
        var buffer = new byte[Math.Min(expected, 1 << 22)];
        long done = 0;
        while (done < values.LongLength)
        {
            int count = (int)Math.Min(buffer.Length / width, values.LongLength - done);
            stream.ReadExactly(buffer, 0, count * width);
            for (int i = 0; i < count; i++)
                values[done + i] = width == 4 ? BitConverter.ToSingle(buffer, 4 * i) : (float)BitConverter.ToHalf(buffer, 2 * i);
            done += count;
        }
        for (long i = 0; i < values.LongLength; i++)
            if (!float.IsFinite(values[i])) throw new InvalidDataException($"{path}: row {i / dimension} (images[{i / dimension}] = {imageFileNames[(int)(i / dimension)]}) holds a NaN or infinite value at dimension {i % dimension}");
        var sidecar = SidecarPath(path);
        if (File.Exists(sidecar))
        {
            int line = 0;
            foreach (var name in File.ReadLines(sidecar))
            {
                if (line >= rows) throw new InvalidDataException($"{sidecar}:{line + 1}: more lines than the {rows:N0} rows of {path}");
                if (name.Trim() != imageFileNames[line])
                    throw new InvalidDataException($"{sidecar}:{line + 1}: expected '{imageFileNames[line]}' (images[{line}].file_name of {what}.json), got '{name.Trim()}'; rows must follow the annotation order");
                line++;
            }
            if (line != rows) throw new InvalidDataException($"{sidecar}: {line:N0} lines for {rows:N0} rows of {path}");
        }
        return new ImageEmbeddings(path, rows, dimension, values);
    }

    /// <summary>Writes float32 embeddings as a .npy file (format 1.0) and, when given, the sidecar of file names; both atomically.</summary>
    public static void Write(string path, float[] values, int rows, int dimension, IReadOnlyList<string>? fileNames = null)
    {
        if (values.LongLength != (long)rows * dimension) throw new ArgumentException($"{values.Length} values is not {rows} × {dimension}");
        var dictionary = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dimension}), }}";
        int total = Magic.Length + 2 + 2 + dictionary.Length + 1;
        var padded = dictionary + new string(' ', (64 - total % 64) % 64) + "\n";
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.Latin1, leaveOpen: true);
            writer.Write(Magic);
            writer.Write((byte)1); writer.Write((byte)0);
            writer.Write((ushort)padded.Length);
            writer.Write(Encoding.Latin1.GetBytes(padded));
            foreach (var v in values) writer.Write(v);
        });
        if (fileNames is not null) AtomicFile.WriteAllText(SidecarPath(path), string.Join('\n', fileNames) + "\n");
    }
}
