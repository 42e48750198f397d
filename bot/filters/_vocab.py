"""The curated vocabulary of ML research: abbreviations, synonyms, narrower terms, derived word forms,
ambiguous abbreviations and company families. Data only; ``_terms`` compiles it.

Why curated tables and not a thesaurus: a team's filter names a research topic, and the words a paper
uses for that topic are a small, stable set that a person can review (``MLLM`` is a VLM, ``GRPO`` is
reinforcement learning). Every entry must hold in general ML writing, not for one paper: a rule that
would surprise a reader of ``bench/relevance`` does not belong here.
"""

from __future__ import annotations

# Abbreviation -> spelled-out forms. Matching goes both ways and also inside longer phrases; plurals
# and hyphenation are handled by normalisation, so list each form once, in the singular.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "LLM": ("large language model",),
    "SLM": ("small language model",),
    "MLLM": ("multimodal large language model", "multimodal LLM"),
    "LMM": ("large multimodal model",),
    "VLM": ("vision language model", "visual language model"),
    "LVLM": ("large vision language model",),
    "VLA": ("vision language action model",),
    "RL": ("reinforcement learning",),
    "RLHF": ("reinforcement learning from human feedback",),
    "RLVR": ("reinforcement learning with verifiable rewards", "reinforcement learning from verifiable rewards"),
    "RLAIF": ("reinforcement learning from AI feedback",),
    "MARL": ("multi agent reinforcement learning",),
    "DPO": ("direct preference optimization",),
    "PPO": ("proximal policy optimization",),
    "GRPO": ("group relative policy optimization",),
    "SFT": ("supervised fine tuning",),
    "PEFT": ("parameter efficient fine tuning",),
    "LoRA": ("low rank adaptation",),
    "MoE": ("mixture of experts",),
    "RAG": ("retrieval augmented generation",),
    "CoT": ("chain of thought",),
    "ICL": ("in context learning",),
    "PRM": ("process reward model",),
    "ORM": ("outcome reward model",),
    "ASR": ("automatic speech recognition", "speech recognition"),
    "TTS": ("text to speech",),
    "OCR": ("optical character recognition",),
    "VQA": ("visual question answering",),
    "GNN": ("graph neural network",),
    "CNN": ("convolutional neural network",),
    "RNN": ("recurrent neural network",),
    "LSTM": ("long short term memory",),
    "GAN": ("generative adversarial network",),
    "VAE": ("variational autoencoder",),
    "ViT": ("vision transformer",),
    "DiT": ("diffusion transformer",),
    "NeRF": ("neural radiance field",),
    "3DGS": ("3d gaussian splatting",),
    "SSM": ("state space model",),
    "MCTS": ("monte carlo tree search",),
    "NLP": ("natural language processing",),
    "T2I": ("text to image",),
    "T2V": ("text to video",),
    "I2V": ("image to video",),
    "KD": ("knowledge distillation",),
    "PTQ": ("post training quantization",),
    "QAT": ("quantization aware training",),
    "NVS": ("novel view synthesis",),
    "SWE": ("software engineering",),
    "AGI": ("artificial general intelligence",),
}

# Other names for the same thing: each phrase of a group matches every other one, both ways, and a
# match through one of them says so ("VLM as MLLM").
SYNONYMS: tuple[tuple[str, ...], ...] = (
    (
        "VLM", "MLLM", "LVLM", "LMM", "multimodal language model", "vision language model",
        "video language model", "video LLM", "multimodal foundation model", "vision LLM",
    ),
    ("test time scaling", "inference time scaling", "test time compute", "inference time compute"),
    ("long context", "context window", "context length", "long sequence", "million token context"),
    ("world model", "world simulator"),
    ("code generation", "program synthesis", "code synthesis", "code LLM"),
    ("math", "mathematics", "mathematical"),
    ("speech", "spoken", "voice"),
    ("text to speech", "speech synthesis", "voice cloning", "voice generation"),
    ("GUI agent", "computer use agent", "computer use", "web agent", "browser agent", "mobile agent", "UI agent"),
    ("reward model", "verifier", "reward modeling"),
    ("RAG", "retrieval augmented", "retrieval augmentation", "retrieval enhanced generation"),
    ("image editing", "image edit", "instruction based editing", "instruction guided editing"),
    ("hallucination", "hallucinate", "factuality", "factual error"),
    ("multilingual", "cross lingual", "multilinguality", "many languages", "low resource language"),
    ("medical", "clinical", "healthcare", "medicine", "biomedical"),
    ("AI safety", "AI security", "safety alignment", "LLM safety", "model safety"),
    ("jailbreak", "jailbreaking", "red teaming"),
    ("robotics", "robot", "embodied", "humanoid"),
    ("distillation", "distill"),
    ("pretraining", "pre training"),
    ("efficient inference", "inference efficiency", "inference acceleration", "faster inference", "fast inference"),
    ("AI for science", "scientific discovery", "AI scientist", "AI4Science", "science AI"),
)  # fmt: skip

# A topic naming the broad term also matches these narrower ones (not the other way round): a team
# following reinforcement learning wants GRPO papers; a team following GRPO does not want all of RL.
NARROWER: dict[str, tuple[str, ...]] = {
    "reinforcement learning": (
        "RLHF", "RLVR", "RLAIF", "MARL", "GRPO", "PPO", "DAPO", "GSPO", "policy gradient", "policy optimization",
        "actor critic", "Q learning", "temporal difference", "offline RL", "reward shaping",
        "verifiable reward", "reinforcement fine tuning",
    ),
    "video generation": (
        "text to video", "image to video", "video synthesis", "video diffusion", "video generative",
        "human image animation", "human animation", "character animation", "image animation", "talking head",
        "talking face", "video world model", "audio video generation", "video generator", "video editing",
    ),
    "diffusion model": (
        "diffusion", "flow matching", "rectified flow", "score matching", "denoising", "DDPM", "DDIM", "DiT",
        "consistency model", "classifier free guidance", "CFG", "diffusion LLM", "dLLM",
    ),
    "3d": (
        "gaussian splatting", "3DGS", "NeRF", "radiance field", "novel view synthesis", "point cloud", "mesh",
        "4d", "multi view", "inverse graphics", "depth estimation", "3D reconstruction", "CAD", "Blender",
    ),
    "speech": ("ASR", "TTS", "speech recognition", "text to speech", "spoken language model", "speech LM"),
    "audio": ("speech", "sound", "music", "acoustic", "audio language model", "ASR", "TTS"),
    "code generation": (
        "code agent", "coding agent", "SWE bench", "software engineering agent", "code completion", "code repair",
        "program repair", "repository level", "vibe coding", "code LLM", "coding assistant",
    ),
    "LLM agent": (
        "GUI agent", "computer use agent", "web agent", "browser agent", "search agent", "deep research",
        "research agent", "coding agent", "software engineering agent", "SWE agent", "tool use", "tool calling",
        "agentic", "multi agent system", "language agent", "AI agent", "autonomous agent", "agent harness",
        "agentic search", "agent benchmark", "MCP",
    ),
    "agent": (
        "agentic", "multi agent", "GUI agent", "web agent", "computer use", "deep research", "tool use",
    ),
    "agent memory": (
        "memory system", "memory bank", "long term memory", "episodic memory",
        "memory agent", "agentic memory", "memory augmented agent",
    ),
    "reward model": (
        "PRM", "ORM", "process reward", "outcome reward", "reward modeling", "generative verifier", "LLM as judge",
        "LLM as a judge", "process scorer", "reward hacking", "preference model",
    ),
    "test time scaling": (
        "best of n", "self verification", "self consistency", "test time training", "test time optimization",
        "parallel sampling", "scaling inference", "test time search",
    ),
    "long context": (
        "context compression", "KV cache compression", "context extension", "length extrapolation",
        "long document", "long input", "128k", "1m token",
    ),
    "efficient inference": (
        "speculative decoding", "quantization", "KV cache", "sparse attention", "model pruning", "token pruning",
        "token compression", "early exit", "prefill", "decoding acceleration", "inference speed", "LLM serving",
        "low bit", "parallel decoding",
    ),
    "quantization": ("low bit", "4 bit", "2 bit", "int8", "int4", "fp8", "fp4", "binarization", "PTQ", "QAT"),
    "mixture of experts": ("expert routing", "sparse expert", "router", "MoE layer"),
    "world model": ("driving world model", "video world model", "physical simulator", "learned simulator"),
    "robotics": (
        "VLA", "vision language action", "robot manipulation", "grasping", "locomotion", "autonomous driving",
        "embodied agent", "robot policy", "physical AI", "dexterous", "embodied AI",
    ),
    "embodied AI": ("VLA", "vision language action", "embodied agent", "robot", "physical AI", "embodied"),
    "AI safety": (
        "jailbreak", "red teaming", "prompt injection", "guardrail", "backdoor", "adversarial attack",
        "harmful content", "harmful", "unsafe", "safety benchmark", "deceptive", "misuse", "policy compliance",
        "attack success rate", "safety risk",
    ),
    "jailbreak": ("jailbreak attack", "red teaming", "prompt injection", "adversarial prompt"),
    "multilingual": (
        "Korean", "Japanese", "Chinese", "Turkish", "Arabic", "Hindi", "Kazakh", "German", "French", "Spanish",
        "Vietnamese", "Indonesian", "Thai", "Swahili", "non English", "machine translation", "language specific",
    ),
    "math reasoning": (
        "theorem proving", "theorem prover", "mathematical reasoning", "math problem", "math word problem",
        "olympiad", "Lean 4", "formal proof", "autoformalization", "math benchmark",
    ),
    "image editing": ("inpainting", "outpainting", "image manipulation", "subject editing", "editing benchmark"),
    "knowledge distillation": ("distillation", "distill", "teacher student", "student model", "on policy distillation"),
    "LoRA": ("QLoRA", "DoRA", "low rank adapter", "LoRA adapter"),
    "parameter efficient fine tuning": ("LoRA", "adapter tuning", "prefix tuning", "prompt tuning", "PEFT"),
    "medical": (
        "patient", "diagnosis", "radiology", "X ray", "chest X ray", "mental health", "doctor",
        "disease", "EHR", "pathology", "drug discovery", "surgical",
    ),
    "LLM pretraining": (
        "next token prediction", "pretraining data", "pretraining objective", "pretraining corpus",
        "pretraining paradigm", "continued pretraining", "scaling law",
    ),
    "video understanding": (
        "video question answering", "video QA", "video reasoning", "temporal grounding", "video captioning",
        "video LLM", "long video understanding", "egocentric video", "video comprehension",
    ),
    "hallucination": ("factual consistency", "false conclusion", "misinformation", "fabricat", "unfaithful"),
    "AI for science": (
        "chemistry", "biology", "materials science", "protein", "molecule", "molecular", "drug", "genomics",
        "scientist", "research automation", "scientific literature", "scientific figure", "lab automation",
    ),
    "LLM evaluation": ("LLM as judge", "LLM as a judge", "LLM benchmark", "evaluation suite"),
    "benchmark": ("bench", "evaluation suite", "leaderboard"),
}  # fmt: skip

# Word forms a suffix stemmer cannot reach (applied before stemming, so ``agentic`` = ``agent``).
DERIVED: dict[str, str] = {
    "agentic": "agent",
    "robotic": "robot",
    "robotics": "robot",
    "multimodality": "multimodal",
    "mathematical": "math",
    "mathematics": "math",
    "maths": "math",
    "scientific": "science",
    "generative": "generate",
    "generator": "generate",
    "reasoner": "reasoning",
    "simulator": "simulate",
    "synthesis": "synthesize",
    "synthesizer": "synthesize",
    "tokenizer": "tokenize",
    "distillation": "distill",
    "compression": "compress",
    "prediction": "predict",
    "detection": "detect",
    "segmentation": "segment",
    "hallucinate": "hallucination",
    "hallucinating": "hallucination",
    "hallucinated": "hallucination",
    "multilinguality": "multilingual",
}

# Abbreviations with a second common meaning in ML papers: "ASR" is also an attack success rate, "TTS"
# test-time scaling. Unless the paper defines one itself, it is read as nothing when the paper shows the
# other meaning's words and none of the usual meaning's (each a word start):
# abbreviation -> (words of its usual field, words of the other meaning).
AMBIGUOUS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "asr": (
        ("speech", "audio", "spoken", "acoustic", "transcri", "voice", "speaker", "utteranc"),
        ("attack", "jailbreak", "adversar", "harm", "success", "safety", "defen"),
    ),
    "tts": (
        ("speech", "audio", "voice", "spoken", "vocoder", "prosod", "speaker", "acoustic"),
        ("scaling", "test", "inference", "reasoning", "compute", "sampling"),
    ),
    "slm": (("small", "compact", "edge", "device"), ("speech", "spoken", "audio")),
    "prm": (("reward", "process", "step", "verif"), ("robot", "roadmap", "motion", "planning")),
    "cad": (("design", "3d", "geometr", "mesh", "shape", "sketch", "engineer"), ("diagnos", "clinical", "medical")),
    "cfg": (("guidance", "diffusion", "classifier", "sampling"), ("grammar", "parsing", "control flow", "program")),
}

# org: families: a company's labs publish under handles that do not contain its name.
ORG_FAMILIES: dict[str, tuple[str, ...]] = {
    "alibaba": ("qwen", "tongyi", "damo", "alibaba cloud", "aliyun", "wan video", "alimama", "taobao"),
    "google": ("deepmind", "google research", "google deepmind"),
    "meta": ("facebook", "facebook research", "meta ai", "fair"),
    "microsoft": ("microsoft research", "msr"),
    "tencent": ("hunyuan", "tencent arc", "tencent hunyuan"),
    "bytedance": ("bytedance seed", "doubao"),
    "amazon": ("aws", "amazon science"),
    "huawei": ("noah", "huawei noah"),
}
