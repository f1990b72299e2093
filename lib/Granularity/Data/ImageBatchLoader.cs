using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Data;

/// <summary>What the loader does with an image it cannot use (missing, not an image, corrupt, truncated).</summary>
public enum BadImagePolicy
{
    /// <summary>Leave it out of its batch, count it, and report the count at the end of the epoch.</summary>
    Skip,

    /// <summary>Stop the epoch with an error naming the file and the reason.</summary>
    Fail,
}

/// <summary>Options of <see cref="ImageBatchLoader"/>; validated at construction with messages naming the field.</summary>
public sealed record ImageLoaderOptions
{
    public int BatchSize { get; init; } = 64;
    public bool Shuffle { get; init; } = true;                         // reshuffled every epoch from (Seed, epoch)
    public bool DropLast { get; init; }                                 // drop the final partial batch
    public int Seed { get; init; }
    public int Workers { get; init; } = Math.Max(1, Environment.ProcessorCount);   // decoding threads
    public int PrefetchBatches { get; init; } = 4;                      // batches being built or waiting, at most
    public ImageTransform Transform { get; init; } = new TrainAugmentation();
    public BadImagePolicy OnBadImage { get; init; } = BadImagePolicy.Skip;
    public bool AcceptTruncatedImages { get; init; }                    // decode truncated JPEGs instead of skipping them
    public Action<string>? Report { get; init; }                        // epoch-end line when images were skipped (default: stderr)

    public static ImageLoaderOptions Training(int seed, int batchSize = 64) => new() { Seed = seed, BatchSize = batchSize };

    public static ImageLoaderOptions Evaluation(int batchSize = 64) =>
        new() { BatchSize = batchSize, Shuffle = false, Transform = new EvalTransform() };

    public ImageLoaderOptions Validate()
    {
        if (BatchSize < 1) throw new ArgumentException($"ImageLoaderOptions.BatchSize must be ≥ 1, got {BatchSize}");
        if (Workers is < 1 or > 256) throw new ArgumentException($"ImageLoaderOptions.Workers must be in [1, 256], got {Workers}");
        if (PrefetchBatches < 1) throw new ArgumentException($"ImageLoaderOptions.PrefetchBatches must be ≥ 1, got {PrefetchBatches}");
        switch (Transform)
        {
            case TrainAugmentation train: train.Validate(); break;
            case EvalTransform eval: eval.Validate(); break;
        }
        return this;
    }
}

/// <summary>What happened in one epoch of an <see cref="ImageBatchLoader"/>.</summary>
public sealed record EpochReport(int Epoch, int Batches, int Images, int SkippedImages, IReadOnlyList<string> SkippedExamples, TimeSpan Duration);

/// <summary>
/// The multi-threaded image loader: worker threads each build whole batches (read bytes → decode → transform →
/// NCHW float tensor) in order, at most <see cref="ImageLoaderOptions.PrefetchBatches"/> ahead of the consumer.
/// Order and augmentation depend only on (seed, epoch, image index), never on thread timing. Disposing the enumerator
/// early stops the workers and frees unconsumed batches.
/// </summary>
public sealed class ImageBatchLoader : IBatchSource
{
    private readonly int[] labels;
    private int liveWorkers;

    public ImageBatchLoader(ImageDataset dataset, int[] leafToLabel, ImageLoaderOptions options)
    {
        Dataset = dataset;
        Options = options.Validate();
        labels = dataset.LabelsFrom(leafToLabel);
        ClassCount = leafToLabel.Length == 0 ? 0 : leafToLabel.Max() + 1;
        if (leafToLabel.Any(l => l < 0)) throw new ArgumentException("leafToLabel contains a negative label", nameof(leafToLabel));
    }

    public ImageDataset Dataset { get; }
    public ImageLoaderOptions Options { get; }
    public int Count => Dataset.Count;
    public int ClassCount { get; }

    /// <summary>Worker threads currently running (0 once an epoch has finished or its enumerator was disposed).</summary>
    public int LiveWorkers => Volatile.Read(ref liveWorkers);

    /// <summary>The most batches built or being built ahead of the consumer during the last epoch (≤ PrefetchBatches).</summary>
    public int PeakBatchesAhead { get; private set; }

    /// <summary>The report of the most recent epoch that ran to its end (or was stopped early).</summary>
    public EpochReport? LastEpochReport { get; private set; }

    /// <summary>Number of batches per epoch.</summary>
    public int BatchCount => Options.DropLast ? Count / Options.BatchSize : (Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>The dataset indices of each batch of <paramref name="epoch"/> (before bad images are skipped).</summary>
    public int[] Order(int epoch) => Options.Shuffle ? SampleRandom.Permutation(Count, Options.Seed, epoch) : Enumerable.Range(0, Count).ToArray();

    public IEnumerable<Batch> Epoch(int epoch)
    {
        var order = Order(epoch);
        int batchCount = BatchCount;
        var run = new EpochRun(this, epoch, order, batchCount);
        var started = DateTime.UtcNow;
        int images = 0, batches = 0;
        try
        {
            run.Start();
            for (int b = 0; b < batchCount; b++)
            {
                var built = run.Take(b);
                if (built is null) continue; // every image of the batch was skipped
                images += built.Size;
                batches++;
                yield return built;
            }
        }
        finally
        {
            run.Stop();
            PeakBatchesAhead = run.PeakAhead;
            LastEpochReport = new EpochReport(epoch, batches, images, run.Skipped, run.SkippedExamples, DateTime.UtcNow - started);
            if (run.Skipped > 0)
                (Options.Report ?? (line => Console.Error.WriteLine(line)))(
                    $"{Dataset.Name} epoch {epoch}: skipped {run.Skipped} unusable image(s), e.g. {string.Join("; ", run.SkippedExamples.Take(3))}");
        }
    }

    /// <summary>Builds batch <paramref name="b"/> of an epoch on the calling thread (what each worker does); null if all its images were bad.</summary>
    private Batch? BuildBatch(int epoch, int[] order, int b, ImageDecoder decoder, ref byte[] bytes, ref float[] buffer, EpochRun run)
    {
        int size = Options.Transform.OutputSize, imageLength = 3 * size * size;
        int start = b * Options.BatchSize, count = Math.Min(Options.BatchSize, order.Length - start);
        if (buffer.Length < count * imageLength) buffer = new float[count * imageLength];
        var kept = new List<long>(count);
        var keptLabels = new List<long>(count);
        for (int j = 0; j < count && !run.Stopping; j++)
        {
            int index = order[start + j];
            var random = SampleRandom.For(Options.Seed, epoch, index);
            try
            {
                int length = Dataset.ReadBytes(index, ref bytes);
                decoder.DecodeInto(bytes.AsSpan(0, length), Dataset.DisplayPathOf(index), Options.Transform, ref random, buffer.AsSpan(kept.Count * imageLength, imageLength));
                kept.Add(index);
                keptLabels.Add(labels[index]);
            }
            catch (BadImageException error) when (Options.OnBadImage == BadImagePolicy.Skip)
            {
                run.RecordSkip(error.Message);
            }
        }
        if (kept.Count == 0) return null;
        var images = torch.empty(new long[] { kept.Count, 3, size, size }, ScalarType.Float32);
        images.data<float>().CopyFrom(buffer, 0, 0);
        return new Batch(images, torch.tensor(keptLabels.ToArray()), kept.ToArray());
    }

    /// <summary>The shared state of one epoch: workers claim batch numbers in order under a prefetch bound.</summary>
    private sealed class EpochRun(ImageBatchLoader loader, int epoch, int[] order, int batchCount)
    {
        private readonly object gate = new();
        private readonly Dictionary<int, Batch?> ready = new();
        private readonly SemaphoreSlim permits = new(loader.Options.PrefetchBatches);
        private readonly CancellationTokenSource stop = new();
        private readonly List<Thread> threads = new();
        private readonly List<string> examples = new();
        private Exception? failure;
        private int nextBatch = -1;
        private int skipped;
        private int ahead;

        public int PeakAhead { get; private set; }

        public bool Stopping => stop.IsCancellationRequested;
        public int Skipped => Volatile.Read(ref skipped);
        public IReadOnlyList<string> SkippedExamples { get { lock (examples) return examples.ToArray(); } }

        public void RecordSkip(string message)
        {
            Interlocked.Increment(ref skipped);
            lock (examples) if (examples.Count < 20) examples.Add(message);
        }

        public void Start()
        {
            int workers = Math.Min(loader.Options.Workers, Math.Max(1, batchCount));
            for (int w = 0; w < workers; w++)
            {
                var thread = new Thread(Work) { IsBackground = true, Name = $"{loader.Dataset.Name} loader {w}" };
                threads.Add(thread);
                thread.Start();
            }
        }

        private void Work()
        {
            Interlocked.Increment(ref loader.liveWorkers);
            var decoder = new ImageDecoder { AcceptTruncated = loader.Options.AcceptTruncatedImages };
            var bytes = new byte[1 << 18];
            var buffer = Array.Empty<float>();
            try
            {
                while (true)
                {
                    permits.Wait(stop.Token);
                    int b = Interlocked.Increment(ref nextBatch);
                    if (b >= batchCount) { permits.Release(); return; }
                    lock (gate) PeakAhead = Math.Max(PeakAhead, ++ahead);
                    var batch = loader.BuildBatch(epoch, order, b, decoder, ref bytes, ref buffer, this);
                    lock (gate)
                    {
                        if (Stopping) { batch?.Dispose(); return; }
                        ready[b] = batch;
                        Monitor.PulseAll(gate);
                    }
                }
            }
            catch (OperationCanceledException) { }
            catch (Exception error)
            {
                lock (gate)
                {
                    failure ??= error;
                    Monitor.PulseAll(gate);
                }
            }
            finally
            {
                Interlocked.Decrement(ref loader.liveWorkers);
            }
        }

        /// <summary>Waits for batch <paramref name="b"/>, frees its prefetch slot, and rethrows a worker's failure.</summary>
        public Batch? Take(int b)
        {
            lock (gate)
            {
                while (!ready.ContainsKey(b) && failure is null) Monitor.Wait(gate);
                if (failure is not null && !ready.ContainsKey(b))
                    throw failure is BadImageException bad
                        ? new BadImageException(bad.ImagePath, bad.Reason + " (loader asked to fail on bad images)", bad)
                        : new InvalidOperationException($"{loader.Dataset.Name}: loader worker failed: {failure.Message}", failure);
                var batch = ready[b];
                ready.Remove(b);
                ahead--;
                permits.Release();
                return batch;
            }
        }

        public void Stop()
        {
            stop.Cancel();
            foreach (var thread in threads) thread.Join();
            lock (gate)
            {
                foreach (var batch in ready.Values) batch?.Dispose();
                ready.Clear();
            }
            permits.Dispose();
            stop.Dispose();
        }
    }
}
