using Granularity.Core;
using System.Security.Cryptography;
using Granularity.Runs;

namespace Granularity.Data;


/// <summary>The verification result of one archive.</summary>
public sealed record VerifiedFile(string Name, string Status, long Bytes, string? Md5, string Detail);

/// <summary>A downloaded archive whose size or checksum differs from its manifest: preparation never proceeds past it.</summary>
public sealed class ChecksumMismatchException(string message) : IOException(message);

/// <summary>
/// Verifies archives against a manifest (size, then md5) and remembers verified files by size and modification time in
/// <c>.granularity-verified.json</c> beside them (written atomically after each file), so a rerun skips what is done.
/// </summary>
public static class ArchiveVerifier
{
    public const string StateFileName = ".granularity-verified.json";

    private sealed record StateEntry(long Bytes, long ModifiedUtcTicks, string? Md5, DateTime VerifiedUtc);

    /// <summary>
    /// Checks <paramref name="fileNames"/> (default: every manifest file present in <paramref name="archiveFolder"/>).
    /// Missing requested files and mismatches throw; files without a published md5 get theirs computed and recorded.
    /// </summary>
    public static List<VerifiedFile> Verify(DatasetManifest manifest, string archiveFolder, IReadOnlyCollection<string>? fileNames = null,
        IProgressReporter? progress = null, bool requireAll = false)
    {
        if (!Directory.Exists(archiveFolder)) throw new DirectoryNotFoundException($"{archiveFolder}: archive folder not found");
        var statePath = Path.Combine(archiveFolder, StateFileName);
        var state = File.Exists(statePath) ? JsonFiles.Read<Dictionary<string, StateEntry>>(statePath) : new Dictionary<string, StateEntry>();
        var wanted = fileNames is null ? manifest.Files : fileNames.Select(manifest.File).ToList();
        var results = new List<VerifiedFile>();
        var problems = new List<string>();
        foreach (var file in wanted)
        {
            var info = new FileInfo(Path.Combine(archiveFolder, file.Name));
            if (!info.Exists)
            {
                results.Add(new VerifiedFile(file.Name, "missing", 0, null, $"not in {archiveFolder}"));
                if (fileNames is not null || requireAll) problems.Add($"{info.FullName}: missing (download it as data-manifests/{manifest.Name}.md says)");
                continue;
            }
            if (file.Bytes is { } expectedBytes && info.Length != expectedBytes)
            {
                var detail = $"size {info.Length:N0} bytes, manifest says {expectedBytes:N0} (incomplete or wrong download)";
                results.Add(new VerifiedFile(file.Name, "MISMATCH", info.Length, null, detail));
                problems.Add($"{info.FullName}: {detail}");
                continue;
            }
            long mtime = info.LastWriteTimeUtc.Ticks;
            if (state.TryGetValue(file.Name, out var known) && known.Bytes == info.Length && known.ModifiedUtcTicks == mtime
                && (file.Md5 is null || string.Equals(known.Md5, file.Md5, StringComparison.OrdinalIgnoreCase)))
            {
                results.Add(new VerifiedFile(file.Name, "ok (remembered)", info.Length, known.Md5, $"verified {known.VerifiedUtc:u}"));
                continue;
            }
            var task = new ProgressTask(progress, "md5", info.Length, "B");
            var md5 = Md5Of(info.FullName, done => task.Report(done, file.Name));
            if (file.Md5 is not null && !string.Equals(md5, file.Md5, StringComparison.OrdinalIgnoreCase))
            {
                var detail = $"md5 {md5}, manifest says {file.Md5} (corrupt download: delete and download again)";
                results.Add(new VerifiedFile(file.Name, "MISMATCH", info.Length, md5, detail));
                problems.Add($"{info.FullName}: {detail}");
                state.Remove(file.Name);
                continue;
            }
            state[file.Name] = new StateEntry(info.Length, mtime, md5, DateTime.UtcNow);
            JsonFiles.Write(statePath, state);
            results.Add(new VerifiedFile(file.Name, file.Md5 is null ? "ok (no published md5; recorded)" : "ok", info.Length, md5, ""));
        }
        if (problems.Count > 0) throw new ChecksumMismatchException("verification failed:\n  " + string.Join("\n  ", problems));
        return results;
    }

    public static string Md5Of(string path, Action<long>? progress = null)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = new byte[1 << 22];
        long done = 0;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            md5.AppendData(buffer, 0, read);
            done += read;
            progress?.Invoke(done);
        }
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }
}

/// <summary>
/// `data prepare`: verify the archives a split needs, extract them safely into the prepared root (resumable: finished
/// archives are recorded in <c>.granularity-prepared.json</c>; a half-extracted one is redone, keeping complete files),
/// and write the split's index. Uncompressed per-class tars inside archives are left for reading in place.
/// </summary>
public static class DatasetPreparation
{
    public const string StateFileName = ".granularity-prepared.json";

    private sealed record ExtractedArchive(long Bytes, long ModifiedUtcTicks, long Files, DateTime CompletedUtc);

    public static List<string> Prepare(DatasetManifest manifest, string archiveFolder, string preparedRoot, IReadOnlyList<string> splits,
        IProgressReporter? progress = null, Action<string>? log = null, bool strict = false)
    {
        log ??= _ => { };
        var chosen = splits.Select(manifest.Split).ToList();
        var files = chosen.SelectMany(s => s.Files).Distinct().ToList();
        log($"verifying {files.Count} archive(s) in {archiveFolder}");
        foreach (var result in ArchiveVerifier.Verify(manifest, archiveFolder, files, progress))
            log($"  {result.Name}: {result.Status}");

        Directory.CreateDirectory(preparedRoot);
        var statePath = Path.Combine(preparedRoot, StateFileName);
        var state = File.Exists(statePath) ? JsonFiles.Read<Dictionary<string, ExtractedArchive>>(statePath) : new Dictionary<string, ExtractedArchive>();
        foreach (var name in files)
        {
            var file = manifest.File(name);
            var archive = new FileInfo(SafePath.Resolve(archiveFolder, name, manifest.SourcePath, $"$.files[{manifest.Files.IndexOf(file)}].name", "the archive folder"));
            var extractTo = manifest.ResolveUnderPreparedRoot(preparedRoot, file.ExtractTo, $"$.files[{manifest.Files.IndexOf(file)}].extractTo");
            if (file.Extract == "none")
            {
                var copy = Path.Combine(extractTo, name);
                if (!File.Exists(copy) || new FileInfo(copy).Length != archive.Length)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                    File.Copy(archive.FullName, copy + ".partial", overwrite: true);
                    File.Move(copy + ".partial", copy, overwrite: true);
                }
                continue;
            }
            if (state.TryGetValue(name, out var done) && done.Bytes == archive.Length && done.ModifiedUtcTicks == archive.LastWriteTimeUtc.Ticks)
            {
                log($"  {name}: already extracted ({done.Files:N0} files, {done.CompletedUtc:u})");
                continue;
            }
            log($"extracting {name} → {extractTo}");
            var extracting = new ProgressTask(progress, "extract", archive.Length, "B");
            long count = TarArchives.ExtractSafely(archive.FullName, extractTo,
                (position, _) => extracting.Report(position, name));
            state[name] = new ExtractedArchive(archive.Length, archive.LastWriteTimeUtc.Ticks, count, DateTime.UtcNow);
            JsonFiles.Write(statePath, state);
            log($"  {name}: {count:N0} files");
        }
        var indexes = new List<string>();
        foreach (var split in chosen)
        {
            if (split.Loader is "omniglot-zip" or "cifar100-binary")
            {
                // Small sets read whole into memory: no index; reading them once here checks every record.
                log(CheckInMemorySplit(manifest, preparedRoot, split));
                indexes.Add(preparedRoot);
                continue;
            }
            var hostile = new HostileEntries(strict);
            var dataset = BuildIndex(manifest, preparedRoot, split.Name, progress, hostile);
            if (hostile.Summary is { } skipped) log($"warning: {skipped}");
            var path = ImageIndex.DefaultPath(preparedRoot, split.Name);
            ImageIndex.Write(dataset, path);
            log($"index {path}: {dataset.Count:N0} images, {dataset.CategoryCount:N0} categories");
            indexes.Add(path);
        }
        return indexes;
    }

    /// <summary>Reads a prepared in-memory split (Omniglot zips, CIFAR-100 binary files) end to end and describes it.</summary>
    public static string CheckInMemorySplit(DatasetManifest manifest, string preparedRoot, ManifestSplit split)
    {
        if (split.Loader == "omniglot-zip")
        {
            var zips = split.Files.Select(f => Path.Combine(preparedRoot, manifest.File(f).ExtractTo, f)).ToList();
            var images = Omniglot.Load(zips, imageSize: 28);
            if (split.Images is { } expected && images.Count != expected)
                throw new InvalidDataException($"{string.Join(", ", zips)}: {images.Count:N0} distinct drawings, the manifest's split '{split.Name}' expects {expected:N0}");
            return $"{split.Name}: {images.Count:N0} drawings of {images.Characters.Count:N0} characters in {images.Alphabets.Count} alphabets ({images.DuplicatesDropped:N0} duplicates dropped)";
        }
        var file = Path.Combine(manifest.ResolveUnderPreparedRoot(preparedRoot, split.ImageRoot, manifest.SplitField(split, "imageRoot")), split.Name + ".bin");
        var records = Cifar100.Read(file, (int?)split.Images, Cifar100.Tree());
        return $"{split.Name}: {records.Count:N0} records in {file}";
    }

    /// <summary>Scans a prepared split with the loader its manifest names.</summary>
    public static ImageDataset BuildIndex(DatasetManifest manifest, string preparedRoot, string splitName, IProgressReporter? progress = null, HostileEntries? hostile = null)
    {
        var split = manifest.Split(splitName);
        string LabelFile() => manifest.ResolveFile(split.LabelOrder
            ?? throw new InputFormatException(manifest.SourcePath, manifest.SplitField(split, "labelOrder"), $"split {split.Name} (loader {split.Loader}) needs a labelOrder file, relative to {DatasetManifest.FolderName}"), manifest.SplitField(split, "labelOrder"));
        string ImageRoot() => manifest.ResolveUnderPreparedRoot(preparedRoot, split.ImageRoot, manifest.SplitField(split, "imageRoot"));
        switch (split.Loader)
        {
            case "inat2021":
                return INat2021.Load(preparedRoot, split.Name);
            case "imagenet1k":
                return ImageNet1k.Load(preparedRoot, split.Name, LabelFile());
            default:
                ProgressTask? indexing = null;
                var (dataset, missing) = ImageNet21k.Load(ImageRoot(), LabelFile(), $"{manifest.Name}/{split.Name}",
                    (done, total) => (indexing ??= new ProgressTask(progress, "index", total, "classes")).Report(done, split.Name), hostile);
                if (missing.Count > 0 && split.Classes is { } expected && dataset.Categories.Distinct().Count() < expected)
                    throw new InvalidDataException($"{ImageRoot()}: {expected - dataset.Categories.Distinct().Count()} of the {expected} classes of {split.Name} are missing (first: {missing[0]})");
                return dataset;
        }
    }
}
