using System.Reflection;
using Granularity.Cli;

var commands = typeof(ICliCommand).Assembly.GetTypes()
    .Where(t => typeof(ICliCommand).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (ICliCommand)Activator.CreateInstance(t)!)
    .OrderBy(c => c.Name, StringComparer.Ordinal)
    .ToList();

return CommandLine.Run(commands, args);

namespace Granularity.Cli
{
    /// <summary>Dispatches `granularity WORDS… --options` to the command whose name matches the longest run of leading words.</summary>
    public static class CommandLine
    {
        public static int Run(IReadOnlyList<ICliCommand> commands, string[] args)
        {
            if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
            {
                var topic = string.Join(' ', args.Skip(1));
                var match = commands.FirstOrDefault(c => c.Name == topic);
                if (match is not null) { Console.WriteLine(match.Usage); return 0; }
                Console.WriteLine("usage: granularity COMMAND [options]   (granularity help COMMAND for its options)\n");
                foreach (var command in commands) Console.WriteLine($"  {command.Name,-26} {command.Summary}");
                return args.Length == 0 ? 2 : 0;
            }
            var chosen = commands
                .Where(c => { var words = c.Name.Split(' '); return words.Length <= args.Length && words.SequenceEqual(args.Take(words.Length)); })
                .OrderByDescending(c => c.Name.Split(' ').Length)
                .FirstOrDefault();
            if (chosen is null)
            {
                Console.Error.WriteLine($"granularity: unknown command '{string.Join(' ', args.TakeWhile(a => !a.StartsWith("--")))}'; `granularity help` lists the commands");
                return 2;
            }
            try
            {
                var rest = args.Skip(chosen.Name.Split(' ').Length);
                if (rest.Contains("--help")) { Console.WriteLine(chosen.Usage); return 0; }
                return chosen.Run(new CliArguments(rest));
            }
            catch (CliUsageException error)
            {
                Console.Error.WriteLine($"granularity {chosen.Name}: {error.Message}\n\n{chosen.Usage}");
                return 2;
            }
            catch (Exception error) when (error is InvalidDataException or Granularity.Core.InputFormatException or FileNotFoundException or ArgumentException or DirectoryNotFoundException)
            {
                Console.Error.WriteLine($"granularity {chosen.Name}: {error.Message}");
                return 1;
            }
        }
    }
}
