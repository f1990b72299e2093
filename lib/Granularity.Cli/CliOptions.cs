using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace Granularity.Cli;

/// <summary>A usage error found after parsing (e.g. two options that exclude each other): exit code 2, the message names the option.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>
/// Typed options whose help text, default and validation live in one place; System.CommandLine prints the help from
/// them and rejects bad values (exit code 2) before a command runs.
/// </summary>
public static class CliOptions
{
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    public static Option<int> Int(string name, string description, int fallback, int min = int.MinValue, int max = int.MaxValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => fallback,
        CustomParser = result => result.Tokens.Count == 0 ? fallback : ParseInt(result, name, min, max) ?? fallback,
    };

    /// <summary>A whole number that may be left out (null), for options whose default depends on other options.</summary>
    public static Option<int?> OptionalInt(string name, string description, int min = int.MinValue, int max = int.MaxValue) => new(name)
    {
        Description = description,
        CustomParser = result => result.Tokens.Count == 0 ? null : ParseInt(result, name, min, max),
    };

    public static Option<double?> OptionalDouble(string name, string description, double min = double.MinValue, double max = double.MaxValue) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            if (result.Tokens.Count == 0) return null;
            var text = result.Tokens[0].Value;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && !double.IsNaN(value) && value >= min && value <= max) return value;
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{name} must be a number in [{min}, {max}], got '{text}'"));
            return null;
        },
    };

    private static int? ParseInt(ArgumentResult result, string name, int min, int max)
    {
        var text = result.Tokens[0].Value;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        result.AddError($"{name} must be a whole number in [{Bound(min)}, {Bound(max)}], got '{text}'");
        return null;
    }

    public static Option<string?> Text(string name, string description, string? helpName = null) =>
        new(name) { Description = description, HelpName = helpName };

    public static Option<string> Text(string name, string description, string fallback, string? helpName = null) =>
        new(name) { Description = description, DefaultValueFactory = _ => fallback, HelpName = helpName };

    public static Option<string> Required(string name, string description, string? helpName = null) =>
        new(name) { Description = description, Required = true, HelpName = helpName };

    public static Option<string> Choice(string name, string description, string fallback, params string[] choices) =>
        OneOf(new Option<string>(name) { Description = description, DefaultValueFactory = _ => fallback }, choices);

    public static Option<string?> OptionalChoice(string name, string description, params string[] choices) =>
        OneOf(new Option<string?>(name) { Description = description }, choices);

    /// <summary>Restricts a text option to <paramref name="choices"/>; the help shows them, an error names the option.</summary>
    public static Option<T> OneOf<T>(Option<T> option, params string[] choices)
    {
        option.HelpName = string.Join('|', choices);
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !choices.Contains(result.Tokens[0].Value))
                result.AddError($"{option.Name} must be one of {string.Join(", ", choices)}; got '{result.Tokens[0].Value}'");
        });
        return option;
    }

    /// <summary>A comma-separated list, e.g. "--levels coarse,mid,leaf"; null when the option is left out.</summary>
    public static Option<string[]?> List(string name, string description, string helpName = "A,B,…") =>
        new(name) { Description = description, HelpName = helpName, CustomParser = result => result.Tokens.Count == 0 ? null : SplitList(result.Tokens.Single().Value) };

    /// <summary>A comma-separated list of whole numbers ≥ <paramref name="min"/>, e.g. "--seeds 0,1,2"; null when left out.</summary>
    public static Option<int[]?> IntList(string name, string description, int min = 0) => new(name)
    {
        Description = description,
        HelpName = "N,N,…",
        CustomParser = result =>
        {
            if (result.Tokens.Count == 0) return null;
            var values = new List<int>();
            foreach (var part in SplitList(result.Tokens.Single().Value))
            {
                if (int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min) values.Add(value);
                else { result.AddError($"{name} must be a comma-separated list of whole numbers ≥ {min}, got '{part}'"); return null; }
            }
            return values.ToArray();
        },
    };

    /// <summary>A list option's values, or null when it was not given (System.CommandLine gives an empty array then).</summary>
    public static T[]? GetList<T>(this ParseResult parse, Option<T[]?> option) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option) : null;

    /// <summary>The run folders root that every training and experiment command takes.</summary>
    public static Option<string?> Runs() => Text("--runs", "run folders root (default GRANULARITY_RUNS or artifacts/runs)", "DIR");

    /// <summary>Fails parsing when more than one of <paramref name="options"/> is given.</summary>
    public static void AtMostOneOf(Command command, params Option[] options) => command.Validators.Add(result =>
    {
        var given = options.Where(o => result.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
        if (given.Count > 1) result.AddError($"choose one of {string.Join(" and ", given)}");
    });

    /// <summary>A command with its options; <paramref name="action"/> returns the exit code.</summary>
    public static Command Command(string name, string description, Option[] options, Func<ParseResult, int> action)
    {
        var command = new Command(name, description);
        foreach (var option in options) command.Options.Add(option);
        command.SetAction(action);
        return command;
    }

    /// <summary>A command that only groups sub-commands, e.g. `theory` above `theory run`.</summary>
    public static Command Group(string name, string description, params Command[] commands)
    {
        var group = new Command(name, description);
        foreach (var command in commands) group.Subcommands.Add(command);
        return group;
    }

    private static string[] SplitList(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string Bound(int value) => value switch { int.MinValue => "-∞", int.MaxValue => "∞", _ => value.ToString(CultureInfo.InvariantCulture) };
}
