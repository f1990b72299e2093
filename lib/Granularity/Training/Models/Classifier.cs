using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Granularity.Training.Models;

/// <summary>A network body that maps images to a feature vector of <see cref="FeatureCount"/> values per sample.</summary>
public interface IFeatureBody
{
    int FeatureCount { get; }
}

/// <summary>
/// A body (everything below the classifier) plus a linear head over its features. Transfer keeps the body and builds a
/// new classifier with a fresh head for the target labels (<see cref="WithNewHead"/>).
/// </summary>
public sealed class Classifier : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> body;
    private readonly Linear head;

    public Classifier(nn.Module<Tensor, Tensor> body, int classCount) : base(nameof(Classifier))
    {
        if (body is not IFeatureBody featureBody) throw new ArgumentException($"the body {body.GetType().Name} must implement {nameof(IFeatureBody)}");
        if (classCount < 1) throw new ArgumentException($"classCount must be ≥ 1, got {classCount}");
        this.body = body;
        FeatureCount = featureBody.FeatureCount;
        ClassCount = classCount;
        head = nn.Linear(FeatureCount, classCount);
        RegisterComponents();
    }

    public int FeatureCount { get; }
    public int ClassCount { get; }

    /// <summary>The shared feature extractor.</summary>
    public nn.Module<Tensor, Tensor> Body => body;

    /// <summary>The linear classifier over the features.</summary>
    public Linear Head => head;

    public override Tensor forward(Tensor images)
    {
        using var features = body.call(images);
        return head.call(features);
    }

    /// <summary>The features the head reads, for linear probes and analysis.</summary>
    public Tensor Features(Tensor images) => body.call(images);

    /// <summary>A classifier that shares this one's body (the same parameter tensors) and has a freshly initialised head.</summary>
    public Classifier WithNewHead(int classCount) => new(body, classCount);
}
