// The Responses API from TypeScript: every Responses type of the `switchpoint` package, so
// `tsc --strict --noEmit` (tests/typescript.test.js) proves those declarations too. Run it
// compiled, with SWITCHPOINT_CONFIG pointing at a config that defines the models `gpt` and
// `sonnet`.
import { Gateway, ResponseStream } from 'switchpoint'
import type {
  ProviderConfig,
  Response,
  ResponseCreateParams,
  ResponseCreateParamsBase,
  ResponseCreateParamsNonStreaming,
  ResponseCreateParamsStreaming,
  ResponseFunctionCallInput,
  ResponseFunctionCallOutputInput,
  ResponseFunctionTool,
  ResponseFunctionToolCall,
  ResponseInputContent,
  ResponseInputItem,
  ResponseInputMessage,
  ResponseOutputItem,
  ResponseOutputMessage,
  ResponseOutputRefusal,
  ResponseOutputText,
  ResponseStreamEvent,
  ResponseStreamEventIterator,
  ResponseTextFormat,
  ResponseTool,
  ResponseToolChoice,
  ResponseUsage,
  StreamedResponse,
} from 'switchpoint'

const native: ProviderConfig = { kind: 'openai', api_key: 'env:OPENAI_API_KEY', responses: 'native' }
const gw = process.env.SWITCHPOINT_CONFIG
  ? Gateway.fromFile(process.env.SWITCHPOINT_CONFIG)
  : new Gateway({ config: { providers: { oai: native }, models: { gpt: { provider: 'oai', model: 'gpt-4o' } } } })

const weather: ResponseFunctionTool = {
  type: 'function',
  name: 'get_weather',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
}
const tools: ResponseTool[] = [weather, { type: 'web_search' }]
const toolChoice: ResponseToolChoice = { type: 'function', name: 'get_weather' }
const format: ResponseTextFormat = { type: 'json_schema', name: 'weather', schema: { type: 'object' }, strict: true }
const parts: ResponseInputContent[] = [
  { type: 'input_text', text: 'What is in this image?' },
  { type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'low' },
]
const question: ResponseInputMessage = { role: 'user', content: parts }

function describeUsage(usage: ResponseUsage | undefined): string {
  if (!usage) return 'no usage'
  return `${usage.input_tokens}+${usage.output_tokens} (cached ${usage.input_tokens_details.cached_tokens}, reasoning ${usage.output_tokens_details.reasoning_tokens})`
}

function describeItem(item: ResponseOutputItem): string {
  if (item.type === 'function_call') {
    const call: ResponseFunctionToolCall = item
    return `call ${call.name}(${call.arguments})`
  }
  const message: ResponseOutputMessage = item
  return message.content
    .map((part: ResponseOutputText | ResponseOutputRefusal) => (part.type === 'output_text' ? part.text : `refused: ${part.refusal}`))
    .join('')
}

function describeFinal(response: StreamedResponse): string {
  return `${response.status} ${describeUsage(response.usage)} via ${response.switchpoint?.provider ?? '?'}`
}

async function main(): Promise<void> {
  const base: ResponseCreateParamsBase = { model: 'gpt', instructions: 'Be brief.', tools, tool_choice: 'auto', team: 'search' }
  const plain: ResponseCreateParamsNonStreaming = { ...base, input: 'Say hi', metadata: { job: 'demo' }, max_output_tokens: 50 }
  const response: Response = await gw.responses.create(plain)
  console.log(response.output_text, response.output.map(describeItem), describeUsage(response.usage))

  // A tool round trip: the call from the answer goes back with its result.
  const asked = await gw.responses.create({ ...base, input: [question], tool_choice: toolChoice })
  const call = asked.output.find((i): i is ResponseFunctionToolCall => i.type === 'function_call')
  if (call) {
    const echoed: ResponseFunctionCallInput = { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments }
    const result: ResponseFunctionCallOutputInput = { type: 'function_call_output', call_id: call.call_id, output: 'sunny' }
    const items: ResponseInputItem[] = [question, echoed, result]
    console.log((await gw.responses.create({ ...base, input: items, text: { format } })).output_text)
  }

  const streaming: ResponseCreateParamsStreaming = { model: 'sonnet', input: 'Tell me a story', stream: true }
  const stream: ResponseStream = await gw.responses.create(streaming)
  for await (const event of stream) {
    const e: ResponseStreamEvent = event
    if (e.type === 'response.output_text.delta') process.stdout.write(e.delta)
    else if (e.type === 'response.completed' || e.type === 'response.incomplete') console.log(describeFinal(e.response))
    else if (e.type === 'response.function_call_arguments.done') console.log(e.name, e.arguments)
  }
  console.log(stream.switchpoint?.latency_ms)

  const either: ResponseCreateParams = Math.random() > 0.5 ? plain : streaming
  const maybe = await gw.responses.create(either)
  if (maybe instanceof ResponseStream) {
    const [left, right]: [ResponseStreamEventIterator, ResponseStreamEventIterator] = maybe.tee()
    await left.return()
    await right.return()
  } else {
    console.log(maybe.id)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
