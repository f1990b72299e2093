using Granularity.Core;
using Granularity.Data;
using Granularity.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Granularity.Training;

/// <summary>Top-1 and top-5 error of a model on one evaluation split at one level.</summary>
public sealed record SplitEvaluation(string Split, string Level, int Count, double Top1Error, double Top5Error);

/// <summary>Per-sample outcome of an evaluation, so callers can split results (easy/hard, per class).</summary>
public sealed record SampleResults(long[] Indices, int[] Labels, int[] Predictions, bool[] Top5Correct)
{
    public bool Top1Correct(int i) => Labels[i] == Predictions[i];
}

/// <summary>Evaluation of a classifier over a batch source: errors and per-sample correctness.</summary>
public static class Evaluator
{
    /// <summary>Runs the model in eval mode without gradients over every batch of <paramref name="source"/> (epoch 0).</summary>
    public static (SplitEvaluation Summary, SampleResults Samples) Evaluate(Classifier model, IBatchSource source, string split, string level)
    {
        var device = TorchRuntime.Device;
        var wasTraining = model.training;
        model.eval();
        var indices = new List<long>(source.Count);
        var labels = new List<int>(source.Count);
        var predictions = new List<int>(source.Count);
        var top5 = new List<bool>(source.Count);
        try
        {
            using var noGrad = no_grad();
            foreach (var batch in source.Epoch(0))
            {
                using var owned = batch;
                using var scope = NewDisposeScope();
                var logits = model.call(batch.Images.to(device));
                var k = (int)Math.Min(5, logits.shape[1]);
                var top = logits.topk(k, dim: 1).indexes.cpu();
                var target = batch.Labels.to(ScalarType.Int64).cpu();
                var hits5 = top.eq(target.unsqueeze(1)).any(1);
                var best = top.select(1, 0).to(ScalarType.Int32).data<int>().ToArray();
                indices.AddRange(batch.Indices);
                labels.AddRange(target.to(ScalarType.Int32).data<int>().ToArray());
                predictions.AddRange(best);
                top5.AddRange(hits5.data<bool>().ToArray());
            }
        }
        finally
        {
            model.train(wasTraining);
        }
        var samples = new SampleResults(indices.ToArray(), labels.ToArray(), predictions.ToArray(), top5.ToArray());
        var count = samples.Labels.Length;
        var top1Errors = Enumerable.Range(0, count).Count(i => !samples.Top1Correct(i));
        var top5Errors = samples.Top5Correct.Count(c => !c);
        return (new SplitEvaluation(split, level, count, count == 0 ? double.NaN : (double)top1Errors / count, count == 0 ? double.NaN : (double)top5Errors / count), samples);
    }
}
