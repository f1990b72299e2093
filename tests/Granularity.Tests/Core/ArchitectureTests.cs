using System.Reflection;
using Granularity.Core;
using NetArchTest.Rules;
using Xunit;

namespace Granularity.Tests.Core;

/// <summary>The library's arrows (Core/ResultVersion.cs, <see cref="Layers"/>) hold in the compiled code.</summary>
public sealed class ArchitectureTests
{
    private static readonly Assembly Library = typeof(Layers).Assembly;

    /// <summary>Every (layer, forbidden layer, offending types) the table does not allow.</summary>
    internal static IReadOnlyList<string> Violations(Assembly assembly, IReadOnlyDictionary<string, string[]> allowed)
    {
        var found = new List<string>();
        foreach (var (layer, dependencies) in allowed)
        {
            var forbidden = allowed.Keys.Where(other => other != layer && !dependencies.Contains(other)).Select(other => $"Granularity.{other}").ToArray();
            if (forbidden.Length == 0) continue;
            var result = Types.InAssembly(assembly).That().ResideInNamespace($"Granularity.{layer}")
                .ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
            if (!result.IsSuccessful)
                found.AddRange(result.FailingTypeNames.Select(type => $"{type} (layer {layer}) uses one of {string.Join(", ", forbidden)}"));
        }
        return found;
    }

    [Fact]
    public void EveryArrowPointsTheAllowedWay()
    {
        var violations = Violations(Library, Layers.AllowedDependencies);
        Assert.True(violations.Count == 0, "wrong-way dependencies:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void AWrongArrowIsCaught()
    {
        // Training really uses Data; a table that forbids it must report the types that do.
        var stricter = Layers.AllowedDependencies.ToDictionary(p => p.Key, p => p.Key == "Training" ? p.Value.Where(d => d != "Data").ToArray() : p.Value);
        Assert.Contains(Violations(Library, stricter), v => v.Contains("(layer Training)"));
    }

    [Fact]
    public void EveryNamespaceIsALayer()
    {
        var strays = Library.GetTypes().Select(t => t.Namespace).Where(n => n is not null && n.StartsWith("Granularity.", StringComparison.Ordinal))
            .Select(n => n!.Split('.')[1]).Distinct().Where(layer => !Layers.AllowedDependencies.ContainsKey(layer) && layer is not "Native" and not "Build").ToList();
        Assert.Empty(strays);
    }
}
