namespace Ppcls.Core.Config.Sections;

/// <summary>`Global.device`.</summary>
public enum DeviceKind { Cpu, Gpu }

/// <summary>`Global.eval_mode`: classification, or retrieval (Recallk / mAP of DataLoader.Eval's Query against its Gallery).</summary>
public enum EvalMode { Classification, Retrieval }

/// <summary>`Global.save_format` (Ppcls addition): `pdparams` also writes each checkpoint's weights as `&lt;name&gt;.pdparams` for PaddleClas.</summary>
public enum SaveFormat { Safetensors, Pdparams }

/// <summary>
/// `Global.memory_format` (Ppcls addition): the strides of 4-D weights and image batches.
/// `channels_last` (NHWC) is what oneDNN's CPU convolutions run fastest in; `contiguous` is NCHW.
/// </summary>
public enum MemoryFormat { ChannelsLast, Contiguous }
