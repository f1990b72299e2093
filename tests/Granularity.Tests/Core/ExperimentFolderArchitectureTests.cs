using System.Text.RegularExpressions;
using Granularity.Core;
using Mono.Cecil;
using Xunit;

namespace Granularity.Tests.Core;

/// <summary>
/// The Experiments layer's folder table (<see cref="Layers.ExperimentFolders"/>) holds in the code. Every folder shares
/// the namespace <c>Granularity.Experiments</c>, so a namespace rule cannot see the folders: a type's folder is that of
/// the source file declaring it (the files the build fingerprinted, <see cref="ResultVersion.Sources"/>), and what a
/// folder uses is read twice, from the compiled IL (Mono.Cecil: signatures, fields, locals, every instruction's operand)
/// and from the source's qualified names (<c>Type.Member</c>, <c>nameof(Type)</c>), because constants and <c>nameof</c>
/// leave no reference in IL.
/// </summary>
public sealed class ExperimentFolderArchitectureTests
{
    private const string Namespace = "Granularity.Experiments";
    private static string LibrarySource => Path.Combine(ProjectPaths.RepositoryRoot, "lib", "Granularity");

    /// <summary>One source file of the Experiments layer: its path under lib/Granularity, its folder and text.</summary>
    internal sealed record SourceText(string Path, string Folder, string Text);

    /// <summary>The Experiments files, and the folder of each top-level type they declare (by name: one namespace).</summary>
    internal sealed record FolderLayout(IReadOnlyList<SourceText> Files, IReadOnlyDictionary<string, string> FolderOfType);

    // A top-level declaration: file-scoped namespaces put it at column 0 (nested types are indented, and belong to their outer type).
    private static readonly Regex Declaration = new(
        @"^(?:(?:public|internal|file|sealed|static|abstract|readonly|partial|ref|unsafe)\s+)*(?:record\s+struct|record\s+class|class|record|struct|interface|enum)\s+(?<name>[A-Za-z_]\w*)",
        RegexOptions.Multiline | RegexOptions.CultureInvariant);

    // A type named in code: `Type.Member` (not itself a member access) or `nameof(Type)`.
    private static readonly Regex Qualified = new(@"(?<![\w.])(?<name>[A-Z]\w*)\s*\.|nameof\(\s*(?<name>[A-Z]\w*)", RegexOptions.CultureInvariant);

    private static readonly Lazy<FolderLayout> Current = new(() => ReadLayout(ResultVersion.Sources));

    private static readonly Lazy<ModuleDefinition> Library = new(() =>
        ModuleDefinition.ReadModule(typeof(Layers).Assembly.Location, new ReaderParameters { InMemory = true, ReadingMode = ReadingMode.Immediate }));

    internal static FolderLayout ReadLayout(IEnumerable<SourceFile> sources)
    {
        var files = new List<SourceText>();
        var folderOfType = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var source in sources.Where(f => f.Layer == "Experiments"))
        {
            var parts = source.Path.Split('/');
            var text = File.ReadAllText(Path.Combine(LibrarySource, source.Path));
            var folder = parts.Length == 3 ? parts[1] : "";
            files.Add(new SourceText(source.Path, folder, text));
            foreach (Match match in Declaration.Matches(text))
            {
                var name = match.Groups["name"].Value;
                if (folderOfType.TryGetValue(name, out var other) && other != folder)
                    throw new InvalidOperationException($"lib/Granularity/{source.Path}: {name} is declared in folder {other} too");
                folderOfType[name] = folder;
            }
        }
        return new FolderLayout(files, folderOfType);
    }

    /// <summary>Every use of a type in a folder that <paramref name="allowed"/> does not let the using folder reach.</summary>
    internal static IReadOnlyList<string> Violations(FolderLayout layout, ModuleDefinition module, IReadOnlyDictionary<string, string[]> allowed)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        void Check(string folder, string where, string used)
        {
            if (!layout.FolderOfType.TryGetValue(used, out var usedFolder) || usedFolder == folder) return;
            if (!allowed.TryGetValue(folder, out var reachable) || !reachable.Contains(usedFolder))
                found.Add($"{where} (folder {folder}) uses {used} (folder {usedFolder})");
        }
        foreach (var type in AllTypes(module).Where(t => Outermost(t).Namespace == Namespace))
        {
            if (!layout.FolderOfType.TryGetValue(SimpleName(Outermost(type)), out var folder)) continue;   // EveryTypeHasAFolder reports it
            foreach (var used in References(type).SelectMany(ExperimentTypes)) Check(folder, type.FullName, used);
        }
        foreach (var file in layout.Files)
        {
            var lines = file.Text.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                var code = StripComment(lines[i]);
                foreach (Match match in Qualified.Matches(code)) Check(file.Folder, $"lib/Granularity/{file.Path}:{i + 1}", match.Groups["name"].Value);
            }
        }
        return found.ToList();
    }

    [Fact]
    public void EveryExperimentsFileLiesInAFolderOfTheTableInTheOneNamespace()
    {
        var wrong = Current.Value.Files
            .Where(f => !Layers.ExperimentFolders.ContainsKey(f.Folder) || !Regex.IsMatch(f.Text, @"^namespace Granularity\.Experiments;", RegexOptions.Multiline))
            .Select(f => $"lib/Granularity/{f.Path}: expected Experiments/<folder>/<file>.cs with <folder> one of {string.Join(", ", Layers.ExperimentFolders.Keys)}, and `namespace {Namespace};`")
            .ToList();
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        Assert.Contains(Current.Value.Files, f => f.Folder == "Shared");
    }

    [Fact]
    public void EveryTypeOfTheLayerHasAFolder()
    {
        var declared = Current.Value.FolderOfType;
        var compiled = Library.Value.Types.Where(t => t.Namespace == Namespace && !t.Name.StartsWith('<')).Select(SimpleName).ToList();
        Assert.True(compiled.Count >= 20, $"only {compiled.Count} types found in {Namespace}");
        var homeless = compiled.Where(name => !declared.ContainsKey(name)).ToList();
        Assert.True(homeless.Count == 0, "types whose declaring file the scan did not find: " + string.Join(", ", homeless));
    }

    [Fact]
    public void EveryArrowBetweenExperimentFoldersIsInTheTable()
    {
        var violations = Violations(Current.Value, Library.Value, Layers.ExperimentFolders);
        Assert.True(violations.Count == 0, "wrong-way dependencies between experiment folders:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void AStricterFolderTableIsCaught()
    {
        // HardSamples really uses Inat2021 (its stand-in config), and every experiment uses Shared.
        var withoutInat = Layers.ExperimentFolders.ToDictionary(p => p.Key, p => p.Key == "HardSamples" ? p.Value.Where(f => f != "Inat2021").ToArray() : p.Value);
        Assert.Contains(Violations(Current.Value, Library.Value, withoutInat), v => v.Contains("(folder HardSamples) uses Inat2021ExperimentConfig (folder Inat2021)"));
        var withoutShared = Layers.ExperimentFolders.ToDictionary(p => p.Key, p => p.Key == "ImageNet" ? [] : p.Value);
        Assert.Contains(Violations(Current.Value, Library.Value, withoutShared), v => v.Contains("(folder ImageNet) uses ExperimentRuns (folder Shared)"));
    }

    [Fact]
    public void AConstantOnlyUseIsCaughtFromTheSource()
    {
        // A constant leaves no reference in IL, so only the source scan sees this use; comments are not code.
        var layout = Current.Value;
        var extra = new SourceText("Experiments/RealImages/Probe.cs", "RealImages",
            "namespace Granularity.Experiments;\n// Inat2021Experiment.Name in a comment is no use\nstatic class Probe { const string N = HardSampleDatasets.FixedWorldToyName + nameof(ImageNetExperiment); }\n");
        var probed = new FolderLayout([.. layout.Files, extra], layout.FolderOfType);
        var withoutShared = Layers.ExperimentFolders.ToDictionary(p => p.Key, p => p.Key == "RealImages" ? [] : p.Value);
        var violations = Violations(probed, Library.Value, withoutShared);
        Assert.Contains("lib/Granularity/Experiments/RealImages/Probe.cs:3 (folder RealImages) uses HardSampleDatasets (folder Shared)", violations);
        Assert.Contains("lib/Granularity/Experiments/RealImages/Probe.cs:3 (folder RealImages) uses ImageNetExperiment (folder ImageNet)", violations);
        Assert.DoesNotContain(violations, v => v.Contains("Probe.cs:2"));
    }

    private static string StripComment(string line)
    {
        var at = line.IndexOf("//", StringComparison.Ordinal);
        return at < 0 ? line : line[..at];
    }

    private static IEnumerable<TypeDefinition> AllTypes(ModuleDefinition module)
    {
        var pending = new Stack<TypeDefinition>(module.Types);
        while (pending.Count > 0)
        {
            var type = pending.Pop();
            yield return type;
            foreach (var nested in type.NestedTypes) pending.Push(nested);
        }
    }

    private static TypeReference Outermost(TypeReference type)
    {
        while (type.DeclaringType is not null) type = type.DeclaringType;
        return type;
    }

    private static string SimpleName(TypeReference type) => type.Name.Split('`')[0];

    /// <summary>The Experiments types (outermost, by name) a type reference names, through arrays, generics and modifiers.</summary>
    private static IEnumerable<string> ExperimentTypes(TypeReference? type)
    {
        switch (type)
        {
            case null or GenericParameter:
                yield break;
            case GenericInstanceType generic:
                foreach (var name in ExperimentTypes(generic.ElementType).Concat(generic.GenericArguments.SelectMany(ExperimentTypes))) yield return name;
                yield break;
            case TypeSpecification specification:
                foreach (var name in ExperimentTypes(specification.ElementType)) yield return name;
                yield break;
            default:
                var outer = Outermost(type);
                if (outer.Namespace == Namespace) yield return SimpleName(outer);
                yield break;
        }
    }

    /// <summary>Every type a type's definition and code name: base, interfaces, attributes, members' signatures, locals and operands.</summary>
    private static IEnumerable<TypeReference> References(TypeDefinition type)
    {
        if (type.BaseType is not null) yield return type.BaseType;
        foreach (var implemented in type.Interfaces) yield return implemented.InterfaceType;
        foreach (var attribute in type.CustomAttributes) yield return attribute.AttributeType;
        foreach (var constraint in type.GenericParameters.SelectMany(g => g.Constraints)) yield return constraint.ConstraintType;
        foreach (var field in type.Fields) yield return field.FieldType;
        foreach (var property in type.Properties) yield return property.PropertyType;
        foreach (var declared in type.Events) yield return declared.EventType;
        foreach (var method in type.Methods)
        {
            yield return method.ReturnType;
            foreach (var parameter in method.Parameters) yield return parameter.ParameterType;
            foreach (var attribute in method.CustomAttributes) yield return attribute.AttributeType;
            foreach (var constraint in method.GenericParameters.SelectMany(g => g.Constraints)) yield return constraint.ConstraintType;
            if (!method.HasBody) continue;
            foreach (var variable in method.Body.Variables) yield return variable.VariableType;
            foreach (var handler in method.Body.ExceptionHandlers) if (handler.CatchType is not null) yield return handler.CatchType;
            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference operand:
                        yield return operand;
                        break;
                    case MethodReference called:
                        yield return called.DeclaringType;
                        yield return called.ReturnType;
                        foreach (var parameter in called.Parameters) yield return parameter.ParameterType;
                        if (called is GenericInstanceMethod generic) foreach (var argument in generic.GenericArguments) yield return argument;
                        break;
                    case FieldReference field:
                        yield return field.DeclaringType;
                        yield return field.FieldType;
                        break;
                }
            }
        }
    }
}
