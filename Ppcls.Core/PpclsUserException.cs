using Ppcls.Inference;

namespace Ppcls.Core;

/// <summary>
/// A problem the user can fix (bad input, missing file, unavailable device). The CLI prints
/// its one-line message, naming the file, line or key and what to do, without a stack trace.
/// Deploy-side errors (Ppcls.Inference) are its base type, <see cref="UserInputException"/>.
/// </summary>
public class PpclsUserException(string message) : UserInputException(message);
