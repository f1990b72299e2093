using Granularity.Data;
using Xunit;

namespace Granularity.Tests.Data;

public sealed class ImageLoaderTests
{
    private static readonly ImageLoaderOptions Small = new()
    {
        BatchSize = 5, Seed = 3, Workers = 2, PrefetchBatches = 2, Transform = new TrainAugmentation { OutputSize = 24 }, Report = _ => { },
    };

    private static (TempFolder Folder, ImageDataset Dataset) INatFixture(int categories = 6, int perCategory = 4)
    {
        var folder = new TempFolder();
        DataFixtures.WriteINatSplit(folder.Path, "train_mini", categories, perCategory);
        return (folder, INat2021.Load(folder.Path, "train_mini"));
    }

    private static List<(long[] Indices, long[] Labels, float[] Pixels)> Run(ImageBatchLoader loader, int epoch) =>
        loader.Epoch(epoch).Select(batch =>
        {
            using (batch) return (batch.Indices, batch.Labels.data<long>().ToArray(), batch.Images.data<float>().ToArray());
        }).ToList();

    [Fact]
    public void LabelsFollowTheLeafToLabelMapAtEveryGranularity()
    {
        var (folder, dataset) = INatFixture();
        using var _ = folder;
        var maps = new[]
        {
            Enumerable.Range(0, 6).ToArray(),            // leaf (species)
            new[] { 0, 0, 0, 1, 1, 1 },                  // two genera
            new[] { 0, 0, 0, 0, 0, 0 },                  // one kingdom
            new[] { 2, 0, 1, 2, 0, 1 },                  // a non-contiguous grouping
        };
        foreach (var map in maps)
        {
            var loader = new ImageBatchLoader(dataset, map, Small);
            Assert.Equal(map.Max() + 1, loader.ClassCount);
            var batches = Run(loader, 0);
            Assert.Equal(24, batches.Sum(b => b.Indices.Length));
            foreach (var (indices, labels, pixels) in batches)
            {
                Assert.Equal(indices.Length * 3 * 24 * 24, pixels.Length);
                for (int j = 0; j < indices.Length; j++) Assert.Equal(map[dataset.CategoryOf((int)indices[j])], labels[j]);
            }
        }
        // Categories are the annotation's ids: the file's folder prefix NNNNN is the category.
        for (int i = 0; i < dataset.Count; i++)
            Assert.Equal(dataset.CategoryOf(i), int.Parse(Path.GetFileName(Path.GetDirectoryName(dataset.DisplayPathOf(i))!)[..5]));
    }

    [Fact]
    public void OrderAndAugmentationAreDeterministicForASeedAndIndependentOfThreads()
    {
        var (folder, dataset) = INatFixture();
        using var _ = folder;
        var leaf = Enumerable.Range(0, 6).ToArray();
        var twoThreads = Run(new ImageBatchLoader(dataset, leaf, Small), 1);
        var oneThread = Run(new ImageBatchLoader(dataset, leaf, Small with { Workers = 1, PrefetchBatches = 1 }), 1);
        Assert.Equal(twoThreads.Count, oneThread.Count);
        for (int b = 0; b < twoThreads.Count; b++)
        {
            Assert.Equal(twoThreads[b].Indices, oneThread[b].Indices);
            Assert.Equal(twoThreads[b].Pixels, oneThread[b].Pixels);
        }
        // Each image in a batch is exactly the decoder's output for (seed, epoch, index).
        var decoder = new ImageDecoder();
        var bytes = Array.Empty<byte>();
        for (int j = 0; j < twoThreads[0].Indices.Length; j++)
        {
            int index = (int)twoThreads[0].Indices[j];
            var expected = new float[3 * 24 * 24];
            var random = SampleRandom.For(Small.Seed, 1, index);
            int length = dataset.ReadBytes(index, ref bytes);
            decoder.DecodeInto(bytes.AsSpan(0, length), "x", Small.Transform, ref random, expected);
            Assert.Equal(expected, twoThreads[0].Pixels.AsSpan(j * expected.Length, expected.Length).ToArray());
        }
        var nextEpoch = Run(new ImageBatchLoader(dataset, leaf, Small), 2);
        Assert.NotEqual(twoThreads.SelectMany(b => b.Indices), nextEpoch.SelectMany(b => b.Indices));
        var otherSeed = Run(new ImageBatchLoader(dataset, leaf, Small with { Seed = 4 }), 1);
        Assert.NotEqual(twoThreads.SelectMany(b => b.Indices), otherSeed.SelectMany(b => b.Indices));
        var evaluation = Run(new ImageBatchLoader(dataset, leaf, ImageLoaderOptions.Evaluation(5) with { Transform = new EvalTransform { OutputSize = 24, ResizeSize = 28 }, Workers = 2 }), 0);
        Assert.Equal(Enumerable.Range(0, 24).Select(i => (long)i), evaluation.SelectMany(b => b.Indices));
    }

    [Fact]
    public void DropLastDropsThePartialBatch()
    {
        var (folder, dataset) = INatFixture();
        using var _ = folder;
        var leaf = Enumerable.Range(0, 6).ToArray();
        Assert.Equal(new[] { 5, 5, 5, 5, 4 }, Run(new ImageBatchLoader(dataset, leaf, Small), 0).Select(b => b.Indices.Length));
        Assert.Equal(new[] { 5, 5, 5, 5 }, Run(new ImageBatchLoader(dataset, leaf, Small with { DropLast = true }), 0).Select(b => b.Indices.Length));
    }

    [Fact]
    public void StoppingEarlyEndsTheWorkersAndTheNextEpochStillRuns()
    {
        var (folder, dataset) = INatFixture(categories: 8, perCategory: 6);
        using var _ = folder;
        var loader = new ImageBatchLoader(dataset, Enumerable.Range(0, 8).ToArray(), Small with { BatchSize = 2, PrefetchBatches = 3 });
        using (var enumerator = loader.Epoch(0).GetEnumerator())
        {
            Assert.True(enumerator.MoveNext());
            enumerator.Current.Dispose();
            Assert.True(loader.LiveWorkers > 0 || loader.BatchCount <= 3);
        }
        Assert.Equal(0, loader.LiveWorkers);
        Assert.Equal(1, loader.LastEpochReport!.Batches);
        foreach (var batch in loader.Epoch(0).Take(2)) batch.Dispose();
        Assert.Equal(0, loader.LiveWorkers);
        Assert.Equal(24, Run(loader, 1).Count);
        Assert.Equal(0, loader.LiveWorkers);
    }

    [Fact]
    public void BadImagesAreSkippedAndCountedOrFailFast()
    {
        var (folder, dataset) = INatFixture();
        using var _ = folder;
        // Damage three images of the fixture in three ways.
        var corruptPath = dataset.DisplayPathOf(0);
        var bytes = File.ReadAllBytes(corruptPath);
        File.WriteAllBytes(corruptPath, bytes.AsSpan(0, bytes.Length / 3).ToArray());
        File.WriteAllText(dataset.DisplayPathOf(5), "<html>not a jpeg</html>");
        File.Delete(dataset.DisplayPathOf(9));
        var reports = new List<string>();
        var leaf = Enumerable.Range(0, 6).ToArray();
        var loader = new ImageBatchLoader(dataset, leaf, Small with { Report = reports.Add });
        var batches = Run(loader, 0);
        Assert.Equal(21, batches.Sum(b => b.Indices.Length));
        Assert.DoesNotContain(0L, batches.SelectMany(b => b.Indices));
        Assert.Equal(3, loader.LastEpochReport!.SkippedImages);
        var report = Assert.Single(reports);
        Assert.Contains("skipped 3", report);
        Assert.Contains(loader.LastEpochReport.SkippedExamples, e => e.Contains("missing file") && e.Contains(Path.GetFileName(dataset.DisplayPathOf(9))));
        Assert.Contains(loader.LastEpochReport.SkippedExamples, e => e.Contains("not an image"));
        Assert.Contains(loader.LastEpochReport.SkippedExamples, e => e.Contains("truncated"));

        var strict = new ImageBatchLoader(dataset, leaf, Small with { OnBadImage = BadImagePolicy.Fail, Shuffle = false });
        var error = Assert.Throws<BadImageException>(() => Run(strict, 0));
        Assert.Contains(Path.GetFileName(corruptPath), error.Message);
        Assert.Equal(0, strict.LiveWorkers);
    }

    [Fact]
    public void PrefetchBoundsBatchesInFlight()
    {
        var (folder, dataset) = INatFixture(categories: 8, perCategory: 6);
        using var _ = folder;
        var loader = new ImageBatchLoader(dataset, Enumerable.Range(0, 8).ToArray(), Small with { BatchSize = 2, PrefetchBatches = 2, Workers = 2 });
        foreach (var batch in loader.Epoch(0))
        {
            // A slow consumer: the loader must not run ahead by more than the prefetch depth.
            Thread.Sleep(20);
            batch.Dispose();
        }
        Assert.Equal(24, loader.LastEpochReport!.Batches);
        Assert.True(loader.PeakBatchesAhead <= 2, $"{loader.PeakBatchesAhead} batches were built ahead of the consumer; the bound is 2");
    }
}
