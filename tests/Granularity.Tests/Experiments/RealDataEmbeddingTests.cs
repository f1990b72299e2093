using System.Text;
using Granularity.Experiments;
using Granularity.Tests.Data;
using Xunit;

namespace Granularity.Tests.Experiments;

/// <summary>The user-supplied embedding file (.npy) is read when valid and refused with a clear message otherwise.</summary>
public sealed class RealDataEmbeddingTests
{
    private static readonly string[] Files = ["train_mini/a/1.jpg", "train_mini/a/2.jpg", "train_mini/b/3.jpg"];

    /// <summary>A .npy file with a hand-written header, as numpy would write it (or would not).</summary>
    private static void WriteNpy(string path, string header, byte[] data, byte major = 1)
    {
        var text = header + new string(' ', (64 - (10 + header.Length + 1) % 64) % 64) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0]);
        stream.Write(BitConverter.GetBytes((ushort)text.Length));
        stream.Write(Encoding.Latin1.GetBytes(text));
        stream.Write(data);
    }

    private static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    [Fact]
    public void ValidFloat32AndFloat16FilesAreReadInRowOrder()
    {
        using var folder = new TempFolder();
        var path = folder.Combine("clip.npy");
        EmbeddingFile.Write(path, [1, 2, 3, 4, 5, 6], 3, 2, Files);
        var read = EmbeddingFile.Read(path, Files);
        Assert.Equal((3, 2), (read.Rows, read.Dimension));
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, read.Values);

        var half = folder.Combine("half.npy");
        WriteNpy(half, "{'descr': '<f2', 'fortran_order': False, 'shape': (3, 1), }", new[] { (Half)0.5f, (Half)(-2f), (Half)8f }.SelectMany(h => BitConverter.GetBytes(h)).ToArray());
        Assert.Equal(new float[] { 0.5f, -2f, 8f }, EmbeddingFile.Read(half, Files).Values);
    }

    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", 48, "dtype '<f8' is not supported")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (3, 2), }", 24, "Fortran order")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", 24, "must be 2-D")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }", 32, "4 rows, but train_mini has 3 images")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", 20, "truncated")]
    [InlineData("{'fortran_order': False, 'shape': (3, 2), }", 24, "no 'descr' field")]
    public void BadHeadersAndShapesAreClearErrors(string header, int dataBytes, string expected)
    {
        using var folder = new TempFolder();
        var path = folder.Combine("bad.npy");
        WriteNpy(path, header, new byte[dataBytes]);
        var error = Assert.Throws<InvalidDataException>(() => EmbeddingFile.Read(path, Files));
        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void NotANumpyFileNonFiniteValuesAndAWrongSidecarAreClearErrors()
    {
        using var folder = new TempFolder();
        var csv = folder.Combine("embeddings.npy");
        File.WriteAllText(csv, "0.1,0.2\n0.3,0.4\n");
        Assert.Contains("not a NumPy .npy file", Assert.Throws<InvalidDataException>(() => EmbeddingFile.Read(csv, Files)).Message);

        var nan = folder.Combine("nan.npy");
        WriteNpy(nan, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", Floats(0, 0, 0, float.NaN, 0, 0));
        var error = Assert.Throws<InvalidDataException>(() => EmbeddingFile.Read(nan, Files));
        Assert.Contains("row 1", error.Message);
        Assert.Contains("train_mini/a/2.jpg", error.Message);

        var ordered = folder.Combine("ordered.npy");
        EmbeddingFile.Write(ordered, new float[6], 3, 2, ["train_mini/a/1.jpg", "train_mini/b/3.jpg", "train_mini/a/2.jpg"]);
        var sidecar = Assert.Throws<InvalidDataException>(() => EmbeddingFile.Read(ordered, Files));
        Assert.Contains("ordered.files.txt:2", sidecar.Message);
        Assert.Contains("expected 'train_mini/a/2.jpg'", sidecar.Message);

        Assert.Throws<FileNotFoundException>(() => EmbeddingFile.Read(folder.Combine("absent.npy"), Files));
    }
}
