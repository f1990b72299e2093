using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Granularity.Training;

/// <summary>
/// torch.optim.SGD (momentum, dampening, weight decay, Nesterov) with every update in place. TorchSharp's SGD makes a
/// weight-decayed copy of each gradient and frees the copies only when the whole step ends, so each step writes to
/// fresh memory for every parameter (page faults; ~30% of its update time on ResNet-18). Same state as SGD, so
/// checkpoints, resume and learning-rate schedules work unchanged.
/// </summary>
public sealed class FusedSgd(IEnumerable<Parameter> parameters, double learningRate, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
    : SGD(parameters, learningRate, momentum, dampening, weightDecay, nesterov, false)
{
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var options = (Options)group.Options;
        double lr = options.LearningRate!.Value, m = options.momentum!.Value, damp = options.dampening!.Value, wd = options.weight_decay!.Value;
        var useNesterov = options.nesterov!.Value;
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            if (m == 0)
            {
                if (wd != 0) param.mul_(1 - lr * wd);
                param.add_(grad, alpha: -lr);
                continue;
            }
            var state = (State)_state[param.Handle];
            var buffer = state.momentum_buffer;
            if (buffer is null)
            {
                buffer = (wd != 0 ? grad.add(param, alpha: wd) : grad.clone()).detach().DetachFromDisposeScope();
                state.momentum_buffer = buffer;
            }
            else
            {
                buffer.mul_(m).add_(grad, alpha: 1 - damp);
                if (wd != 0) buffer.add_(param, alpha: (1 - damp) * wd);
            }
            if (useNesterov)
            {
                // p − lr·(g + wd·p + m·buf), with buf already updated from the old p.
                if (wd != 0) param.mul_(1 - lr * wd);
                param.add_(grad, alpha: -lr).add_(buffer, alpha: -lr * m);
            }
            else param.add_(buffer, alpha: -lr);
        }
    }, closure);
}
