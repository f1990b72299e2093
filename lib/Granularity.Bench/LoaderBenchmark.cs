using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using SkiaSharp;

using Granularity.Data;

namespace Granularity.Bench;

/// <summary>Which benchmark image set: iNat2021-sized (longest side 500 px) or full-size ImageNet-like originals.</summary>
public enum BenchmarkImageKind { INatSized, FullSize }

/// <summary>
/// `data bench`: realistic test JPEGs (smooth scenes with shapes, texture and sensor-like noise, so they compress like
/// photographs rather than flat colour), and timed runs of the loader (decode + random-resized crop to 224 + flip +
/// normalise) that are interleaved with a peer (torchvision + PIL through eng/bench/torchvision_loader_bench.py).
/// </summary>
public static class LoaderBenchmark
{
    /// <summary>Writes <paramref name="count"/> JPEGs (q 90) of <paramref name="kind"/> into <paramref name="folder"/> unless present; returns their paths.</summary>
    public static List<string> EnsureImages(string folder, BenchmarkImageKind kind, int count, int seed = 0)
    {
        Directory.CreateDirectory(folder);
        var paths = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var path = Path.Combine(folder, $"{kind}-{seed}-{i:D5}.jpg");
            paths.Add(path);
            if (File.Exists(path)) continue;
            var random = SampleRandom.For(seed, (int)kind + 1000, i);
            bool landscape = random.NextDouble() < 0.7;
            int longSide = kind == BenchmarkImageKind.INatSized ? 500 : 1024 + random.NextInt(577);   // full size: 1024..1600 px
            double aspect = new[] { 4.0 / 3, 3.0 / 2, 1.0, 16.0 / 9 }[random.NextInt(4)];
            int shortSide = (int)Math.Round(longSide / aspect);
            var (width, height) = landscape ? (longSide, shortSide) : (shortSide, longSide);
            var temporary = path + ".tmp";
            File.WriteAllBytes(temporary, PhotoLikeJpeg(width, height, ref random));
            File.Move(temporary, path, overwrite: true);
        }
        return paths;
    }

    /// <summary>A synthetic "photograph": gradient sky/ground, blurred shapes, fine texture and per-pixel noise, JPEG q 90.</summary>
    public static unsafe byte[] PhotoLikeJpeg(int width, int height, ref SampleRandom random)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var surface = SKSurface.Create(info);
        var canvas = surface.Canvas;
        SKColor RandomColour(ref SampleRandom r) => new((byte)r.NextInt(256), (byte)r.NextInt(256), (byte)r.NextInt(256));
        using (var sky = new SKPaint { Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(0, height), new[] { RandomColour(ref random), RandomColour(ref random), RandomColour(ref random) }, null, SKShaderTileMode.Clamp) })
            canvas.DrawRect(0, 0, width, height, sky);
        using var paint = new SKPaint { IsAntialias = true };
        int shapes = 20 + random.NextInt(40);
        for (int s = 0; s < shapes; s++)
        {
            paint.Color = RandomColour(ref random).WithAlpha((byte)(120 + random.NextInt(136)));
            paint.MaskFilter = random.NextDouble() < 0.5 ? SKMaskFilter.CreateBlur(SKBlurStyle.Normal, 1 + (float)random.NextDouble() * 8) : null;
            float x = (float)(random.NextDouble() * width), y = (float)(random.NextDouble() * height), r = (float)(random.NextDouble() * Math.Min(width, height) / 4 + 4);
            if (random.NextDouble() < 0.5) canvas.DrawCircle(x, y, r, paint);
            else canvas.DrawRect(x - r, y - r / 2, 2 * r, r, paint);
        }
        using var bitmap = new SKBitmap(info);
        surface.ReadPixels(info, bitmap.GetPixels(), info.RowBytes, 0, 0);
        // Texture and noise make the file size and decode cost photograph-like (≈ 60–120 KB at 500×375).
        byte* p = (byte*)bitmap.GetPixels();
        for (int y = 0; y < height; y++)
        {
            byte* row = p + (long)y * info.RowBytes;
            for (int x = 0; x < width; x++)
            {
                int texture = (int)(10 * Math.Sin(x * 0.37 + y * 0.11) * Math.Cos(y * 0.23 - x * 0.05));
                for (int c = 0; c < 3; c++)
                {
                    int noise = (int)(random.NextULong() % 41) - 20;
                    row[4 * x + c] = (byte)Math.Clamp(row[4 * x + c] + texture + noise, 0, 255);
                }
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }

    /// <summary>An index-free dataset over plain files (one category), each listed <paramref name="repeat"/> times, for benchmarking.</summary>
    public static ImageDataset DatasetOf(IReadOnlyList<string> paths, string name, int repeat = 1)
    {
        var root = Path.GetDirectoryName(paths[0])!;
        var builder = new ImageDatasetBuilder(name, root, new[] { "benchmark" });
        for (int r = 0; r < repeat; r++)
            foreach (var path in paths) builder.AddFile(Path.GetRelativePath(root, path), new FileInfo(path).Length, 0);
        return builder.Build();
    }

    /// <summary>
    /// One timed epoch in steady state: the clock starts when the first <paramref name="threads"/> batches (built in
    /// parallel during start-up) have arrived and counts the images of the later batches; the peer script does the same.
    /// </summary>
    public static double MeasureOurs(ImageDataset dataset, int threads, int batchSize, int seed, int epoch)
    {
        var options = new ImageLoaderOptions { BatchSize = batchSize, Workers = threads, PrefetchBatches = 2 * threads, Seed = seed, Transform = new TrainAugmentation() };
        var loader = new ImageBatchLoader(dataset, new[] { 0 }, options);
        var clock = new Stopwatch();
        int images = 0, seen = 0;
        foreach (var batch in loader.Epoch(epoch))
        {
            using (batch)
            {
                if (++seen <= threads) { if (seen == threads) clock.Start(); continue; }
                images += batch.Size;
            }
        }
        if (images == 0) throw new ArgumentException($"too few images for a steady-state measurement: use more than {threads + 1} batches");
        return images / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Runs the torchvision + PIL peer script on the same files; null when python3/torchvision are unavailable.</summary>
    public static double? MeasurePeer(string script, string fileList, int threads, int batchSize, int seed, string python = "python3")
    {
        var start = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            ArgumentList = { script, "--files", fileList, "--threads", threads.ToString(CultureInfo.InvariantCulture), "--batch", batchSize.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture) },
        };
        Granularity.Theory.Sgemm.UseSameKernelIn(start);
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEnd();
            var errors = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed (exit {process.ExitCode}): {errors.Trim()}");
            var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
            using var json = JsonDocument.Parse(line);
            return json.RootElement.GetProperty("images_per_s").GetDouble();
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }

    /// <summary>
    /// Memory probe: one epoch with a deliberately slow consumer; samples the process's resident memory and returns the
    /// peak growth over the start, in bytes, with the size of one batch tensor for comparison.
    /// </summary>
    public static (long PeakGrowthBytes, long BatchBytes, int PeakBatchesAhead) MeasureMemory(ImageDataset dataset, int threads, int prefetch, int batchSize, TimeSpan consumerDelay)
    {
        var loader = new ImageBatchLoader(dataset, new[] { 0 }, new ImageLoaderOptions { BatchSize = batchSize, Workers = threads, PrefetchBatches = prefetch, Transform = new TrainAugmentation() });
        // Warm up first (native libraries, JIT, decoder buffers), so the baseline holds everything but the batches.
        foreach (var batch in loader.Epoch(1).Take(1)) batch.Dispose();
        GC.Collect();
        long baseline = CurrentResidentBytes(), peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, CurrentResidentBytes());
                try { await Task.Delay(10, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        foreach (var batch in loader.Epoch(0))
        {
            using (batch) Thread.Sleep(consumerDelay);
        }
        sampling.Cancel();
        sampler.Wait();
        return (peak - baseline, 3L * 224 * 224 * 4 * batchSize, loader.PeakBatchesAhead);
    }

    /// <summary>Resident set size from /proc/self/statm on Linux (the GC's view elsewhere): managed and native buffers both count.</summary>
    public static long CurrentResidentBytes()
    {
        if (OperatingSystem.IsLinux())
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        return Process.GetCurrentProcess().WorkingSet64;
    }
}
