using Granularity.Hierarchy;
using Granularity.Core;
using System.Security.Cryptography;
using System.Text;
using Granularity.Runs;
using Granularity.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Training;

/// <summary>The labels of a checkpoint's head as saved: the level, its class count and, for a tree level, each leaf's label.</summary>
public sealed record CheckpointLabels(string Level, int ClassCount, int[]? LabelOfLeaf)
{
    public static implicit operator CheckpointLabels(LabelMap labels) => new(labels.Level, labels.ClassCount, labels.LabelOfLeaf);
}

/// <summary>What a checkpoint says about itself: format, library, the config that made it, its network and labels, and progress.</summary>
public sealed record CheckpointHeader(
    int FormatVersion,
    string LibraryVersion,
    string ConfigType,
    string ConfigJson,
    ModelConfig Model,
    bool FeaturesOnly,          // true: a head over precomputed features (a linear probe in progress), no body
    int FeatureCount,
    int ClassCount,
    CheckpointLabels Labels,
    string Stage,
    int EpochsCompleted,
    int Epochs,
    string[] MetricsColumns,
    double[][] MetricsRows);

/// <summary>
/// A checkpoint file: a header (JSON), the model's weights and, while a stage is in progress, the optimiser's state,
/// closed by a SHA-256 of everything before it so a truncated or damaged file is recognised. Written atomically.
/// </summary>
public static class Checkpoint
{
    /// <summary>Bumped whenever an older reader could misread the file.</summary>
    public const int FormatVersion = 1;
    private static readonly byte[] Magic = "GRANCKPT"u8.ToArray();

    /// <summary>Writes header, model and optimiser (if given) to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, CheckpointHeader header, nn.Module model, optim.Optimizer? optimizer)
    {
        byte[] modelBytes, optimizerBytes = [];
        using (var buffer = new MemoryStream()) { model.save(buffer); modelBytes = buffer.ToArray(); }
        if (optimizer is not null)
        {
            using var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true)) ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
            optimizerBytes = buffer.ToArray();
        }
        var headerBytes = Encoding.UTF8.GetBytes(JsonFiles.Serialize(header));
        AtomicFile.Write(path, stream =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            void Put(ReadOnlySpan<byte> bytes) { stream.Write(bytes); hash.AppendData(bytes); }
            Put(Magic);
            Put(BitConverter.GetBytes(FormatVersion));
            Put(BitConverter.GetBytes(headerBytes.Length));
            Put(headerBytes);
            Put(BitConverter.GetBytes((long)modelBytes.Length));
            Put(modelBytes);
            Put(BitConverter.GetBytes((long)optimizerBytes.Length));
            Put(optimizerBytes);
            stream.Write(hash.GetHashAndReset());
        });
    }

    /// <summary>A checked checkpoint in memory: its header and the byte ranges of model and optimiser state.</summary>
    public sealed class Contents
    {
        internal Contents(string path, CheckpointHeader header, byte[] bytes, int modelStart, int modelLength, int optimizerStart, int optimizerLength)
        {
            Path = path; Header = header; this.bytes = bytes;
            this.modelStart = modelStart; this.modelLength = modelLength; this.optimizerStart = optimizerStart; this.optimizerLength = optimizerLength;
        }

        private readonly byte[] bytes;
        private readonly int modelStart, modelLength, optimizerStart, optimizerLength;

        public string Path { get; }
        public CheckpointHeader Header { get; }
        public bool HasOptimizerState => optimizerLength > 0;

        /// <summary>Builds the network the header describes and loads its weights.</summary>
        public Classifier CreateClassifier()
        {
            var model = Header.FeaturesOnly
                ? new Classifier(new FeatureVectorBody(Header.FeatureCount), Header.ClassCount)
                : Header.Model.Create(Header.ClassCount);
            LoadInto(model);
            return model;
        }

        /// <summary>Loads the weights into <paramref name="model"/> (which must have the same structure).</summary>
        public void LoadInto(nn.Module model)
        {
            try
            {
                using var stream = new MemoryStream(bytes, modelStart, modelLength, writable: false);
                model.load(stream);
            }
            catch (Exception error) when (error is ArgumentException or InvalidOperationException or EndOfStreamException or IOException)
            {
                throw new InvalidDataException($"{Path}: the weights do not fit a {Header.Model.Architecture} with {Header.ClassCount} classes: {error.Message}", error);
            }
        }

        /// <summary>Restores the optimiser state saved with an in-progress stage.</summary>
        public void LoadOptimizer(optim.Optimizer optimizer)
        {
            if (!HasOptimizerState) throw new InvalidDataException($"{Path}: holds no optimiser state (a finished model, not a resumable stage)");
            using var stream = new MemoryStream(bytes, optimizerStart, optimizerLength, writable: false);
            using var reader = new BinaryReader(stream);
            ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(reader);
        }

        /// <summary>Fails unless the head's classes are those of <paramref name="labels"/> (same level, same class count).</summary>
        public void RequireLabels(LabelMap labels)
        {
            if (Header.ClassCount != labels.ClassCount || Header.Labels.Level != labels.Level)
                throw new InvalidDataException(
                    $"{Path}: the checkpoint's head has {Header.ClassCount} outputs for level '{Header.Labels.Level}', but the label map is level " +
                    $"'{labels.Level}' with {labels.ClassCount} classes; transfer to that level first (granularity finetune)");
            if (Header.Labels.LabelOfLeaf is { } saved && labels.LabelOfLeaf is { } given && !saved.SequenceEqual(given))
                throw new InvalidDataException($"{Path}: level '{labels.Level}' maps leaves to classes differently from the label map saved in the checkpoint");
        }
    }

    /// <summary>Reads and verifies a checkpoint: magic, format version, length and checksum; every failure names the file and the cause.</summary>
    public static Contents Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: checkpoint not found", path);
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{path}: checkpoint is unreadable: {error.Message}", error);
        }
        const int fixedPart = 8 + 4 + 4 + 8 + 8 + 32;
        if (bytes.Length < fixedPart || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a Granularity checkpoint (expected the 'GRANCKPT' signature and at least {fixedPart} bytes, found {bytes.Length} bytes)");
        var version = BitConverter.ToInt32(bytes, 8);
        if (version != FormatVersion)
            throw new InvalidDataException($"{path}: checkpoint format {version}, this library reads format {FormatVersion}; rerun the stage with this version");
        var expected = SHA256.HashData(bytes.AsSpan(0, bytes.Length - 32));
        if (!expected.AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
            throw new InvalidDataException($"{path}: checkpoint is truncated or damaged (checksum mismatch over {bytes.Length} bytes); delete it to restart the stage");
        try
        {
            int at = 12;
            var headerLength = BitConverter.ToInt32(bytes, at); at += 4;
            var header = System.Text.Json.JsonSerializer.Deserialize<CheckpointHeader>(bytes.AsSpan(at, headerLength), JsonFiles.Options)
                ?? throw new InvalidDataException($"{path}: empty checkpoint header");
            at += headerLength;
            var modelLength = checked((int)BitConverter.ToInt64(bytes, at)); at += 8;
            var modelStart = at; at += modelLength;
            var optimizerLength = checked((int)BitConverter.ToInt64(bytes, at)); at += 8;
            var optimizerStart = at; at += optimizerLength;
            if (at != bytes.Length - 32) throw new InvalidDataException($"{path}: checkpoint sections do not add up to the file length");
            return new Contents(path, header, bytes, modelStart, modelLength, optimizerStart, optimizerLength);
        }
        catch (Exception error) when (error is System.Text.Json.JsonException or ArgumentException or OverflowException)
        {
            throw new InvalidDataException($"{path}: checkpoint header is malformed: {error.Message}", error);
        }
    }
}

/// <summary>The "body" of a linear probe over precomputed features: N×F×1×1 in, N×F out.</summary>
public sealed class FeatureVectorBody : nn.Module<Tensor, Tensor>, Models.IFeatureBody
{
    public FeatureVectorBody(int featureCount) : base(nameof(FeatureVectorBody))
    {
        FeatureCount = featureCount;
        RegisterComponents();
    }

    public int FeatureCount { get; }

    public override Tensor forward(Tensor features) => features.flatten(1);
}
