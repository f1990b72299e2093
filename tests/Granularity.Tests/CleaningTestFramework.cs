using System.Reflection;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: Xunit.TestFramework("Granularity.Tests.CleaningTestFramework", "Granularity.Tests")]

namespace Granularity.Tests;

/// <summary>
/// xUnit's own framework, plus one step: when the assembly's last test has finished, and before the runner hears so,
/// <see cref="TempFolder.RunRoot"/> is deleted. Cleaning up on process exit is not enough: the test platform kills the
/// test host shortly after the run ends, which can cut a large deletion short and leave files behind.
/// </summary>
public sealed class CleaningTestFramework(IMessageSink diagnostics) : XunitTestFramework(diagnostics)
{
    protected override ITestFrameworkExecutor CreateExecutor(AssemblyName assemblyName) =>
        new Executor(assemblyName, SourceInformationProvider, DiagnosticMessageSink);

    private sealed class Executor(AssemblyName assemblyName, ISourceInformationProvider sourceInformation, IMessageSink diagnostics)
        : XunitTestFrameworkExecutor(assemblyName, sourceInformation, diagnostics)
    {
        protected override void RunTestCases(IEnumerable<IXunitTestCase> testCases, IMessageSink executionMessageSink, ITestFrameworkExecutionOptions executionOptions) =>
            base.RunTestCases(testCases, new CleanBeforeFinishing(executionMessageSink), executionOptions);
    }

    private sealed class CleanBeforeFinishing(IMessageSink inner) : Xunit.LongLivedMarshalByRefObject, IMessageSink
    {
        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is ITestAssemblyFinished) TempFolder.DeleteRunRoot();
            return inner.OnMessage(message);
        }
    }
}
